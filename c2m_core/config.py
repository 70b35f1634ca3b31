"""Settings every entry point needs, in a module that imports nothing heavy (fast start-up)."""

from __future__ import annotations

import datetime

DEFAULT_DB = "c2m.db"
"""The database file when neither ``--db`` nor ``$C2M_DB`` names one."""
DB_ENV = "C2M_DB"
"""The environment variable naming the database (a SQLite file or a PostgreSQL URL)."""
FILES_ENV = "C2M_FILES"
"""The environment variable naming the folder uploads are stored in (by sha256)."""


def is_postgres_url(target) -> bool:
    """Whether ``target`` names a PostgreSQL database (``postgresql://`` or ``postgres://``).

    The same test as ``c2m_core.store.dialect.is_postgres_url``, without importing the store.
    """
    return isinstance(target, str) and target.split("://", 1)[0].lower() in (
        "postgresql",
        "postgres",
    )


def utc_now() -> datetime.datetime:
    """The current time in UTC (the default clock)."""
    return datetime.datetime.now(datetime.UTC)
