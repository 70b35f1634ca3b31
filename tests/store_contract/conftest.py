"""The store contract suite: every test in this folder runs against every store implementation.

A test asks for ``store`` (a fresh, migrated store) or for ``store_target`` and ``open_store``
to open more connections to the same database (from this process or from worker processes, as
separate application servers would). Implementations are listed in ``TARGETS``; a new backend
adds a factory here and must pass the suite unchanged.
"""

from __future__ import annotations

import datetime

import pytest

from c2m_core.store import open_store as _open_store

START = datetime.datetime(2030, 1, 1, 12, tzinfo=datetime.UTC)


class Clock:
    """A settable clock shared by the stores a test opens."""

    def __init__(self, now: datetime.datetime = START):
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += datetime.timedelta(**delta)


def sqlite_target(request) -> str:
    return str(request.getfixturevalue("tmp_path") / "contract.db")


def postgresql_target(request) -> str:
    """A fresh database on the session's throwaway server (``tests/pg_server.py``)."""
    return request.getfixturevalue("postgres_url")


TARGETS = {"sqlite": sqlite_target, "postgresql": postgresql_target}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=sorted(TARGETS))
def store_target(request) -> str:
    """Where a fresh database of one implementation lives (a path or a URL)."""
    return TARGETS[request.param](request)


@pytest.fixture
def open_store(store_target, clock):
    """Open another store on the test's database; every store opened is closed at the end."""
    opened = []

    def opener(target: str = store_target):
        store = _open_store(target, clock=clock)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store):
    """A fresh, migrated store of one implementation."""
    return open_store()
