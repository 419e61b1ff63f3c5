"""Database URLs as operators copy them from their providers, and the driver each one needs.

Rules:
- `postgres://…` and `postgresql://…` (what Heroku, Supabase, Neon, RDS consoles print) mean
  PostgreSQL through psycopg 3, the driver of raqib's `postgres` extra: they are rewritten to
  `postgresql+psycopg://…`; an explicit `+driver` is kept as written;
- a URL whose driver is not installed stops with a `ConfigError` naming `RAQIB_DATABASE_URL`
  and the extra to install, never a traceback and never the URL (it may hold a password).
"""

from __future__ import annotations

import importlib

from flows.errors import ConfigError

DATABASE_URL_ENV = "RAQIB_DATABASE_URL"

# SQLAlchemy dialect+driver -> (module to import, how to install it)
_DRIVERS = {
    "postgresql+psycopg": ("psycopg", "pip install 'raqib[postgres]' (psycopg 3)"),
    "postgresql+psycopg2": ("psycopg2", "pip install psycopg2-binary, or use postgresql:// (psycopg 3: "
                                        "pip install 'raqib[postgres]')"),
    "postgresql+asyncpg": ("asyncpg", "raqib needs a synchronous driver: use postgresql:// with "
                                      "pip install 'raqib[postgres]'"),
    "postgresql+pg8000": ("pg8000", "pip install pg8000, or use postgresql:// with pip install 'raqib[postgres]'"),
}


def normalize(url: str) -> str:
    """The URL with a bare PostgreSQL scheme pointed at psycopg 3."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    return url


def check_driver(url: str, source: str = DATABASE_URL_ENV) -> None:
    """Raise a `ConfigError` when the driver ``url`` needs cannot be imported."""
    scheme = url.partition("://")[0].lower()
    if scheme.startswith("sqlite"):
        return
    if not scheme.startswith("postgres"):
        raise ConfigError(source, None, f"unsupported database {scheme.split('+')[0]!r}: "
                                        "use sqlite:///FILE or postgresql://user@host/db")
    if scheme == "postgresql+asyncpg":
        raise ConfigError(source, None, _DRIVERS[scheme][1])
    module, install = _DRIVERS.get(scheme, (None, "use postgresql://user@host/db"))
    if module is None:
        raise ConfigError(source, None, f"unknown PostgreSQL driver in {scheme!r}: {install}") from None
    try:
        importlib.import_module(module)
    except ImportError:
        raise ConfigError(source, None, f"PostgreSQL needs the {module} driver, which is not installed: {install}") from None
