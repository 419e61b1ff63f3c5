"""The YAML loader for config files: PyYAML's safe loader, in C when PyYAML was built with libyaml.

Same documents and same errors (with line and column marks) as `yaml.safe_load`, about ten times
faster: the knowledge file alone cost ~0.5 s a start with the pure-Python loader.
"""

from __future__ import annotations

import yaml

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
