"""The SQLite store: pragmas, migrations, refusal of newer databases, events."""

import sqlite3

import pytest

from c2m_core import C2M
from c2m_core.store import AREAS, Store, StoreError


def test_pragmas_wal_foreign_keys_busy_timeout(tmp_path):
    store = Store(tmp_path / "c2m.db", AREAS)
    conn = store.db.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # FULL (2): each commit syncs the WAL before it returns, so a committed payment intent
    # survives a power cut; NORMAL (1) may lose the last commits.
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_migrations_are_recorded_once(tmp_path):
    Store(tmp_path / "c2m.db", AREAS).close()
    Store(tmp_path / "c2m.db", AREAS).close()
    conn = sqlite3.connect(tmp_path / "c2m.db")
    rows = conn.execute("SELECT migration_set, name FROM _sqlite_migrations").fetchall()
    assert ("c2m.core", "m001_events") in rows
    assert ("c2m.campaigns", "m001_campaigns") in rows
    assert len(rows) == len(set(rows))


def test_database_from_a_newer_c2m_is_refused(tmp_path):
    Store(tmp_path / "c2m.db", AREAS).close()
    conn = sqlite3.connect(tmp_path / "c2m.db")
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('c2m.campaigns', 'm099_from_the_future', '2030-01-01')"
    )
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="made by a newer c2m.*m099_from_the_future"):
        Store(tmp_path / "c2m.db", AREAS)


def test_a_failed_transaction_leaves_no_trace(tmp_path):
    app = C2M(tmp_path / "c2m.db")
    app.campaigns.create("a", "tv")
    with pytest.raises(RuntimeError), app.store.transaction():
        app.store.event("test.half-done", None, {})
        raise RuntimeError("crash")
    assert [e.type for e in app.store.events_since(0)] == ["campaign.created"]


def test_events_are_only_written_inside_a_transaction(tmp_path):
    store = Store(tmp_path / "c2m.db", AREAS)
    with pytest.raises(RuntimeError, match="inside the transaction"):
        store.event("x", None, {})


def test_events_since_is_a_cursor(tmp_path):
    app = C2M(tmp_path / "c2m.db")
    app.campaigns.create("a", "tv")
    app.campaigns.create("b", "tv")
    first = app.store.events_since(0, limit=1)
    assert [e.payload["slug"] for e in first] == ["a"]
    rest = app.store.events_since(first[-1].id)
    assert [e.payload["slug"] for e in rest] == ["b"]
    b = app.campaigns.get("b")
    assert [e.campaign_id for e in app.store.events_since(0, campaign_id=b.id)] == [b.id]


def test_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "c2m.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open database|not a database"):
        Store(path, AREAS)


def test_event_service_reads_by_campaign_and_type(tmp_path):
    app = C2M(tmp_path / "c2m.db")
    assert app.events.last_id() == 0
    app.campaigns.create("a", "tv")
    app.campaigns.create("b", "tv")
    cursor = app.events.last_id()
    app.campaigns.advance("a")
    assert [(e.type, e.payload) for e in app.events.since(cursor)] == [
        ("campaign.advanced", {"campaign": "a", "from": "draft", "to": "wishes"})
    ]
    assert [e.type for e in app.events.since(0, campaign="a")] == [
        "campaign.created",
        "campaign.advanced",
    ]
    assert len(app.events.since(0, types=("campaign.created",))) == 2
