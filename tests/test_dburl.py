"""Database URLs as users copy them: postgres:// and postgresql:// reach psycopg 3; a missing
driver is a clear error naming RAQIB_DATABASE_URL and the extra to install."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from flows.errors import ConfigError
from flows.store.dburl import check_driver, normalize
from flows.store.state import Store
from tests.conftest import ROOT
from tests.pgschema import pg_schema_url

PG_URL = os.environ.get("RAQIB_TEST_POSTGRES_URL")


@pytest.mark.parametrize("given", ["postgres://u:pw@db.example.org:5432/raqib",
                                   "postgresql://u:pw@db.example.org:5432/raqib",
                                   " postgresql://u:pw@db.example.org:5432/raqib\n"])
def test_provider_urls_point_at_psycopg(given: str) -> None:
    assert normalize(given) == "postgresql+psycopg://u:pw@db.example.org:5432/raqib"


def test_explicit_driver_and_sqlite_are_kept() -> None:
    assert normalize("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize("sqlite:///x.db") == "sqlite:///x.db"


@pytest.mark.parametrize("url, wanted", [
    ("postgresql+pg8000://u:secretpw@h/db", "pg8000"),
    ("postgresql+asyncpg://u:secretpw@h/db", "synchronous"),
    ("mysql://u:secretpw@h/db", "unsupported database 'mysql'"),
])
def test_unusable_drivers_are_named_without_the_url(url: str, wanted: str) -> None:
    with pytest.raises(ConfigError) as err:
        check_driver(url)
    assert "RAQIB_DATABASE_URL" in str(err.value) and wanted in str(err.value)
    assert "secretpw" not in str(err.value)


def test_missing_psycopg_names_the_postgres_extra(tmp_path) -> None:  # noqa: ANN001
    # A plain install has no psycopg: hide it from a real `raqib status` process.
    code = ("import sys; sys.modules['psycopg'] = None; sys.argv = ['raqib', 'status', '--state', sys.argv[1]]; "
            "from flows.cli import main; main()")
    env = {**os.environ, "RAQIB_DATABASE_URL": "postgres://raqib:secretpw@127.0.0.1:1/raqib"}
    (tmp_path / "state").mkdir()
    res = subprocess.run([sys.executable, "-c", code, str(tmp_path / "state")], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, res.stderr
    assert "raqib[postgres]" in res.stderr and "RAQIB_DATABASE_URL" in res.stderr
    assert "Traceback" not in res.stderr and "secretpw" not in res.stderr


@pytest.mark.postgres
def test_a_postgres_url_as_copied_opens_the_state() -> None:
    with pg_schema_url("t_dburl") as url:
        copied = "postgres://" + url.split("://", 1)[1]  # what a provider's console shows
        store = Store(copied)
        try:
            assert store.url.startswith("postgresql+psycopg://")
            assert store.engine.dialect.name == "postgresql"
            (feed,) = store.sync_feeds([("f", "http://127.0.0.1/feed.xml", None)])
            assert feed.key == "f"
        finally:
            store.close()
