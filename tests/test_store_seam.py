"""Store areas run SQL only through the dialect seam, so one area serves both backends.

An area (and its migrations) may call ``execute``, ``executemany``, ``query``, ``query_one``
and ``insert_returning`` of its store; it may not reach the connection, sqlite-utils' table
helpers or a driver, since those exist on one backend only (the PostgreSQL store has no
``db`` at all). This test reads every area's module and fails on such a reach.
"""

import ast
import importlib
import inspect
import pkgutil

import pytest

import c2m_core.store
from c2m_core.store.database import Area

#: Attributes that exist on one backend only: the sqlite-utils database and a connection.
FORBIDDEN_ATTRIBUTES = {"db", "conn", "connection", "cursor"}
#: Modules an area may not import (drivers and sqlite-utils beyond its ``Migrations``).
FORBIDDEN_MODULES = ("sqlite3", "psycopg", "sqlite_utils")
ALLOWED_IMPORTS = {"sqlite_utils.migrations"}


def reaches_past_the_seam(source: str) -> list[str]:
    """Every place in ``source`` that uses something beyond the store's seam."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
            )
            for name in names:
                if name in ALLOWED_IMPORTS:
                    continue
                if any(name == m or name.startswith(m + ".") for m in FORBIDDEN_MODULES):
                    found.append(f"line {node.lineno}: import {name}")
    return found


def area_modules() -> dict[str, str]:
    """Module name -> source of every module of ``c2m_core.store`` that defines an area."""
    modules = {}
    for info in pkgutil.iter_modules(c2m_core.store.__path__):
        if info.name == "postgres":
            continue  # a backend, not an area (and needs the optional driver)
        module = importlib.import_module(f"c2m_core.store.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Area) and cls is not Area and cls.__module__ == module.__name__:
                modules[module.__name__] = inspect.getsource(module)
    return modules


def test_the_areas_are_found():
    names = set(area_modules())
    for area in ("presale", "campaigns", "variants", "wishes", "voting", "handoff", "server",
                 "rewards", "feedback"):  # fmt: skip
        assert f"c2m_core.store.{area}" in names


@pytest.mark.parametrize("module", sorted(area_modules()))
def test_an_area_runs_sql_only_through_the_seam(module):
    assert reaches_past_the_seam(area_modules()[module]) == []


@pytest.mark.parametrize(
    "source",
    [
        "def f(self):\n    return self.db.execute('SELECT 1').fetchone()",
        "def f(self):\n    self.db['pledges'].insert({'id': 1})",
        "def f(self):\n    return self.store.db.conn.execute('SELECT 1')",
        "import sqlite3",
        "from sqlite_utils import Database",
        "from psycopg import sql",
    ],
)
def test_a_reach_past_the_seam_is_found(source):
    assert reaches_past_the_seam(source)


def test_the_seam_and_migrations_are_allowed():
    source = (
        "from sqlite_utils.migrations import Migrations\n"
        "def m001(db):\n    db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY)')\n"
        "def f(self):\n    return self.query_one('SELECT 1', [])\n"
    )
    assert reaches_past_the_seam(source) == []
