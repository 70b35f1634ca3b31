"""The few differences between the SQL c2m writes once and what each backend runs.

The areas write portable SQL: ``?`` placeholders, ``INSERT ... ON CONFLICT (...) DO NOTHING``
or ``DO UPDATE SET x = excluded.x``, ``RETURNING``, SQLite's column types in ``CREATE TABLE``
(``INTEGER PRIMARY KEY``, ``INTEGER``, ``TEXT``, ``REAL``, ``BLOB``) and integers 0/1 for
booleans. SQLite runs it as written; PostgreSQL runs it through ``POSTGRES``:

- placeholders ``?`` outside quotes become ``%s``, and every literal ``%`` becomes ``%%``;
- ``INTEGER PRIMARY KEY [AUTOINCREMENT]`` becomes ``BIGINT GENERATED ALWAYS AS IDENTITY
  PRIMARY KEY`` (ids always come from the insert), ``INTEGER`` becomes ``BIGINT`` (SQLite's
  integers are 64-bit), ``REAL`` becomes ``DOUBLE PRECISION``, ``BLOB`` becomes ``BYTEA``;
- words PostgreSQL reserves but SQLite takes as column names (``authorization``, ``user``...)
  are quoted;
- Python ``bool`` parameters are sent as 0/1, since the columns are integers on both;
- ``for_update`` is ``" FOR UPDATE"`` (a row lock until commit); on SQLite it is empty, since
  ``BEGIN IMMEDIATE`` already holds the only write lock.

Where a backend needs different SQL, an area asks the dialect for that piece only.
"""

from __future__ import annotations

import functools
import re
import urllib.parse

# Quoted strings, quoted identifiers and comments keep their ``?``; every ``%`` is doubled,
# since psycopg reads ``%`` as a placeholder everywhere in a statement that has parameters.
_TOKENS = re.compile(
    r"""('(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/)|(\?)""",
    re.DOTALL,
)
_QUOTED = re.compile(r"""('(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/)""", re.DOTALL)
_TYPES = [
    (
        re.compile(r"\bINTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?\b", re.IGNORECASE),
        "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    ),
    (re.compile(r"\bINTEGER\b", re.IGNORECASE), "BIGINT"),
    (re.compile(r"\bREAL\b", re.IGNORECASE), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b", re.IGNORECASE), "BYTEA"),
    (re.compile(r"\)\s*WITHOUT\s+ROWID\b", re.IGNORECASE), ")"),
]


# Words PostgreSQL reserves that SQLite accepts as column names: quoted wherever they appear
# bare, so that a column called ``authorization`` works on both.
RESERVED = [
    "authorization",
    "binary",
    "both",
    "collation",
    "concurrently",
    "current_user",
    "freeze",
    "ilike",
    "leading",
    "overlaps",
    "session_user",
    "similar",
    "symmetric",
    "asymmetric",
    "tablesample",
    "trailing",
    "user",
    "variadic",
    "verbose",
]
_RESERVED = re.compile(rf"\b({'|'.join(RESERVED)})\b", re.IGNORECASE)


def _quote_reserved(sql: str) -> str:
    parts = _QUOTED.split(sql)
    for index in range(0, len(parts), 2):
        parts[index] = _RESERVED.sub(lambda m: f'"{m.group(1).lower()}"', parts[index])
    return "".join(parts)


@functools.lru_cache(maxsize=4096)
def pyformat(sql: str) -> str:
    """``?`` placeholders (outside quotes) to psycopg's ``%s``; every literal ``%`` doubled."""

    def replace(match: re.Match) -> str:
        return match.group(1) or "%s"

    return _TOKENS.sub(replace, _quote_reserved(sql).replace("%", "%%"))


@functools.lru_cache(maxsize=512)
def postgres_ddl(sql: str) -> str:
    """SQLite column types in a ``CREATE TABLE`` to their PostgreSQL equivalents."""
    parts = _QUOTED.split(sql)
    for index in range(0, len(parts), 2):
        for pattern, replacement in _TYPES:
            parts[index] = pattern.sub(replacement, parts[index])
    return "".join(parts)


def _bools_as_ints(params):
    if isinstance(params, dict):
        return {k: int(v) if isinstance(v, bool) else v for k, v in params.items()}
    return [int(v) if isinstance(v, bool) else v for v in params]


class Dialect:
    """SQLite's dialect: portable SQL runs as written."""

    name = "sqlite"
    for_update = ""

    def sql(self, sql: str) -> str:
        """A portable statement as this backend runs it."""
        return sql

    def ddl(self, sql: str) -> str:
        """A ``CREATE TABLE`` / ``CREATE INDEX`` written with SQLite's types, for this backend."""
        return sql

    def params(self, params):
        """Parameters as this backend's driver takes them."""
        return params


class PostgresDialect(Dialect):
    name = "postgresql"
    for_update = " FOR UPDATE"

    def sql(self, sql: str) -> str:
        return pyformat(sql)

    def ddl(self, sql: str) -> str:
        return pyformat(postgres_ddl(sql))

    def params(self, params):
        return _bools_as_ints(params)


SQLITE = Dialect()
POSTGRES = PostgresDialect()


def is_postgres_url(target) -> bool:
    """Whether ``target`` names a PostgreSQL database (``postgresql://`` or ``postgres://``)."""
    return isinstance(target, str) and target.split("://", 1)[0].lower() in (
        "postgresql",
        "postgres",
    )


def display_target(target) -> str:
    """A database target fit for messages: a path as it is, a URL without its password."""
    if not is_postgres_url(target):
        return str(target)
    parts = urllib.parse.urlsplit(target)
    if parts.password is None:
        return target
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}"
    if parts.port:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
