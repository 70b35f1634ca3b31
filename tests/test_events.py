"""The event registry: every type written is registered and documented; pledge events carry
what a shop needs to act (campaign, variant, customer, key) and are written with their change."""

import datetime
import re
from pathlib import Path

import pytest

from c2m_core import C2M
from c2m_core.errors import InvalidInput
from c2m_core.events import EVENT_TYPES, PLEDGE, markdown

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
SMALL = {"size": "s", "stand": "feet"}
LARGE = {"size": "l", "stand": "wall"}


def test_docs_events_md_is_generated_from_the_registry():
    assert (ROOT / "docs" / "events.md").read_text(encoding="utf-8") == markdown(), (
        "run: python -m c2m_core.events > docs/events.md"
    )


def test_every_event_type_written_in_the_code_is_registered():
    written = set()
    for path in (ROOT / "c2m_core").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        written |= set(re.findall(r"event\(\s*\"([a-z_]+\.[a-z_]+)\"", text))
        written |= set(re.findall(r"_pledge_event\(\s*campaign,\s*\"([a-z_]+\.[a-z_]+)\"", text))
    written |= {"pledge.placed", "pledge.waitlisted"}  # f"pledge.{state}"
    assert len(written) > 30
    assert written - set(EVENT_TYPES) == set()


def test_an_unknown_type_is_an_error_naming_the_known_ones(mini_app):
    with pytest.raises(InvalidInput, match="unknown event type 'pledge.nope'; known types: "):
        mini_app.events.since(types=["pledge.nope"])
    with pytest.raises(InvalidInput, match="pledge.placed"):
        mini_app.events.since(types="pledge.nope")
    assert mini_app.events.since(types=["pledge.placed"]) == []


@pytest.fixture
def app(tmp_path, mini_catalog, category_plugin):
    with C2M(
        tmp_path / "c2m.db", plugins=[category_plugin(mini_catalog)], clock=lambda: NOW
    ) as app:
        app.campaigns.create("c", "mini", stages=["presale"])
        app.ids = (app.variants.add("c", SMALL).id, app.variants.add("c", LARGE).id)
        app.campaigns.advance("c")
        yield app


def test_closing_writes_a_pledge_event_for_every_pledge_a_shop_must_act_on(app):
    small, large = app.ids
    app.presale.open("c", "7d", deposit="10%", threshold=2)
    app.presale.place("c", small, "ann", 2, "o-1")
    app.presale.place("c", large, "bob", 1, "o-2")
    app.presale.close("c")
    events = app.events.since(campaign="c")
    by_type: dict[str, list] = {}
    for event in events:
        by_type.setdefault(event.type, []).append(event.payload)
        if event.type in EVENT_TYPES and set(PLEDGE) <= set(EVENT_TYPES[event.type].fields):
            assert event.payload["campaign"] == "c"
            assert {event.payload["key"], event.payload["customer"]} in (
                {"o-1", "ann"},
                {"o-2", "bob"},
            )
    assert [p["key"] for p in by_type["pledge.placed"]] == ["o-1", "o-2"]
    assert [p["key"] for p in by_type["pledge.committed"]] == ["o-1", "o-2"]
    assert [(p["key"], p["balance"]) for p in by_type["pledge.balance_due"]] == [
        ("o-1", 2 * 10000 * 9 // 10)
    ]
    (cancelled,) = by_type["pledge.cancelled"]
    assert (cancelled["key"], cancelled["reason"], cancelled["variant_id"]) == (
        "o-2",
        "variant_failed",
        large,
    )
    assert [p["key"] for p in by_type["refund.succeeded"]] == ["o-2"]
    assert [p["key"] for p in by_type["pledge.refunded"]] == ["o-2"]
    assert [p["kind"] for p in by_type["payment.succeeded"]] == ["deposit", "deposit"]
    only = app.events.since(types=["pledge.balance_due", "pledge.refunded"])
    assert [e.type for e in only] == ["pledge.balance_due", "pledge.refunded"]
    app.presale.charge_balances("c")
    assert [e.payload["key"] for e in app.events.since(types=["pledge.paid"])] == ["o-1"]
