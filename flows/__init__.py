"""raqib (رقيب): a scheduled ingest-and-alert pipeline for Arabic news.

Stages are plain modules (poll, fetch, extract, normalize, match, notify, state);
the Prefect flows in `flows.ingest` only wire them.
"""

__version__ = "0.1.0"
