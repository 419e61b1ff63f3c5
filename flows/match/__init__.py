"""Topic matcher: decides which watch topics an extracted article is about, with evidence.

Rules:
- Zones.  The title (the ``title`` argument and the first real line of the text) and the body
  count.  Page furniture never fires a topic: breadcrumbs and lines of fewer than three words,
  the ``المصدر`` source line and the ``كلمات دلالية`` tag line, related-headline blocks
  ("إقرأ أيضاً", "مقالات مشابهة", "مقالات ذات صلة", "الأكثر قراءة", …) and everything after
  them (unless a long prose paragraph follows), inline "اقرأ أيضا: …" teasers and bullet lines
  ("  • …") that read like headlines (no sentence-final punctuation).
- Text is normalized once (:mod:`flows.text.normalize`), split into paragraphs (lines) and sentences
  (. ! ؟ ؛ …) and into tokens (letter/digit runs and ``+``).
- A term is a phrase of words.  Each Arabic word tolerates attached clitics (و ف ب ك ل س ال
  وال بال فال كال لل …) and common suffixes (ه ها هم ي ا ان ين ون ات يه يا …; teh marbuta
  written ت before a suffix); the article ال of a term word is optional.  Digits, Latin words,
  ``+`` and words written ``=word`` match exactly.  ``@set`` inserts a variant set from
  variants.yaml; a variant form written literally in a term is expanded to its whole set too.
  A glued token (الولاياتالمتحدة, تعزيزالردع) that matches nothing is split before an inner ال.
  Multi-word names also match written as one word (بيونغيانغ).
- A rule fires when every group has a hit inside one window (sentence, paragraph, article or
  N words around the first group's hit) and no ``exclude`` term falls in the exclusion window;
  group hits overlapping one of the group's ``unless`` phrases do not count.  A topic's score is
  the sum of the weights of its rules that fired; the topic fires when score >= threshold.
- Evidence: for each firing window, the original sentence(s) and the original phrases.
- Loading is loud: any invalid field, unknown key, unknown variant set or term that normalizes
  to nothing raises :class:`flows.errors.ConfigError` naming file, topic and key.
- Term scanning is done once for all topics (one trie of word keys), so the cost grows with the
  number of hits, not with the number of topics.  Lines are split at white space and the analysis
  of each word (pieces, trie starts, sentence end) is cached across articles (:meth:`Matcher.clear_caches`);
  char spans (sentences, phrases) and the map to the original text are computed for evidence only.
  Rules alike across topics are evaluated once per article.

Modules: :mod:`~flows.match.zones` (which lines count), :mod:`~flows.match.words` (word keys),
:mod:`~flows.match.model` (compiled model), :mod:`~flows.match.compiler` (topics to the model),
:mod:`~flows.match.scan` (words to hits), :mod:`~flows.match.rules` (hits to firings),
:mod:`~flows.match.evidence` (firings to quotes), :mod:`~flows.match.matcher` (the whole),
:mod:`~flows.match.loading` (files).
"""

from __future__ import annotations

from flows.match.matcher import Matcher
from flows.match.results import Evidence, TopicMatch
from flows.match.words import PREFIXES, SUFFIXES, word_key

__all__ = ["Evidence", "TopicMatch", "Matcher", "word_key", "PREFIXES", "SUFFIXES"]
