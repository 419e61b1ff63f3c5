"""A PostgreSQL schema of its own for one test, so that tests (and test runs) sharing the machine's
database never see each other's tables. Skips, with ``reason``, when RAQIB_TEST_POSTGRES_URL is unset."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

from flows.store.state import Store

PG_URL = os.environ.get("RAQIB_TEST_POSTGRES_URL")


@contextmanager
def pg_schema_url(prefix: str, reason: str = "set RAQIB_TEST_POSTGRES_URL to run the PostgreSQL tests") -> Iterator[str]:
    """The database URL with ``search_path`` set to a new schema, dropped afterwards."""
    if not PG_URL:
        pytest.skip(reason)
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@contextmanager
def open_store(kind: str, tmp_path: Path, prefix: str, reason: str) -> Iterator[Store]:
    """A migrated `Store` on a new SQLite file (``kind`` "sqlite") or in a new PostgreSQL schema."""
    if kind == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'raqib.db'}")
        try:
            yield store
        finally:
            store.close()
        return
    with pg_schema_url(prefix, reason) as url:
        store = Store(url)
        try:
            yield store
        finally:
            store.close()
