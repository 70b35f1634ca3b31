"""``c2m demo``: a complete campaign on synthetic data, checked stage by stage in the database.

The expected figures are read from the SQLite file with plain ``sqlite3`` queries, not through
c2m's services, so the demo is checked against what was really stored.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from handoff_support import b2mml_schema
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from c2m_core import C2M, Conflict, InvalidInput
from c2m_core.cli import cli
from c2m_core.demo import nice_between, plan_presale, run_demo

HOLDING = ("placed", "committed", "confirmed", "balance_due", "paid")
CONFIRMED = ("confirmed", "balance_due", "paid")
KINDS = (".json", ".work-orders.csv", ".bom.csv", ".b2mml.xml", ".spec.html")


def rows(db, sql, *params):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def one(db, sql, *params):
    return rows(db, sql, *params)[0][0]


@pytest.fixture(scope="module")
def tv_demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    with C2M(folder / "c2m.db") as app:
        summary = run_demo(app, "tv", wishes=600, seed=7, out=folder / "out")
        catalog = app.campaigns.catalog(app.campaigns.get(summary.slug))
    campaign_id = one(folder / "c2m.db", "SELECT id FROM campaigns WHERE slug = ?", summary.slug)
    return summary, folder / "c2m.db", campaign_id, catalog


def test_campaign_went_through_every_stage(tv_demo):
    summary, db, cid, _ = tv_demo
    assert summary.slug == "demo-tv"
    assert one(db, "SELECT state FROM campaigns WHERE id = ?", cid) == "closed"
    moves = rows(
        db, "SELECT payload FROM events WHERE type = 'campaign.advanced' AND campaign_id = ?", cid
    )
    assert [json.loads(p)["to"] for (p,) in moves] == [
        "wishes",
        "vote",
        "presale",
        "handoff",
        "closed",
    ]


def test_wishes_are_skewed_partial_partly_invalid_and_partly_free_text(tv_demo):
    summary, db, cid, catalog = tv_demo
    from c2m_tv.normalize import read_choices

    assert one(db, "SELECT COUNT(*) FROM wishes WHERE campaign_id = ?", cid) == 600
    invalid = one(db, "SELECT COUNT(*) FROM wishes WHERE campaign_id = ? AND valid = 0", cid)
    assert 0 < invalid < 100
    assert invalid == summary.stats.wishes - summary.stats.valid_wishes
    configurations = [
        json.loads(c)
        for (c,) in rows(
            db, "SELECT configuration FROM wishes WHERE campaign_id = ? AND valid", cid
        )
    ]
    required = [m.id for m in catalog.modules if m.required]
    partial = [c for c in configurations if not all(m in c for m in required)]
    assert len(partial) > 50
    sizes = Counter(c["size"] for c in configurations if "size" in c)
    fair_share = sum(sizes.values()) / len(catalog.module("size").options)
    assert max(sizes.values()) > 2 * fair_share  # skewed, not uniform
    texts = rows(
        db, "SELECT raw, configuration FROM wishes WHERE campaign_id = ? AND raw IS NOT NULL", cid
    )
    read = [raw for raw, c in texts if read_choices(catalog, raw) == json.loads(c)]
    assert len(read) == summary.read_from_text > 0  # the TV plugin read these from the text
    assert len(texts) == summary.free_text >= len(read)


def test_vote_follows_the_aggregated_variants(tv_demo):
    summary, db, cid, _ = tv_demo
    variants = rows(
        db, "SELECT id, covered_quantity FROM variants WHERE campaign_id = ? ORDER BY position", cid
    )
    assert len(variants) >= 2
    state, method, result = rows(
        db, "SELECT state, method, result FROM votes WHERE campaign_id = ?", cid
    )[0]
    assert (state, method) == ("closed", "score")
    ballots = one(
        db,
        "SELECT COUNT(*) FROM ballots JOIN votes ON votes.id = vote_id WHERE campaign_id = ?",
        cid,
    )
    assert ballots == summary.vote.ballots == json.loads(result)["ballots"] > 100
    most_covered = max(variants, key=lambda v: v[1])[0]
    assert json.loads(result)["ranking"][0] == most_covered


def test_presale_tips_some_variants_and_fails_one(tv_demo):
    summary, db, cid, _ = tv_demo
    offers = rows(
        db,
        "SELECT variant_id, state, threshold, capacity, units_at_close FROM presale_offers "
        "WHERE campaign_id = ?",
        cid,
    )
    states = Counter(state for _, state, _, _, _ in offers)
    assert states["tipped"] >= 1 and states["failed"] >= 1
    for variant, state, threshold, capacity, units in offers:
        committed = one(
            db,
            f"SELECT COALESCE(SUM(quantity), 0) FROM pledges WHERE variant_id = ? "
            f"AND state IN ({','.join('?' * len(CONFIRMED))})",
            variant,
            *CONFIRMED,
        )
        if state == "tipped":
            assert units >= threshold and committed == units
        else:
            assert units < threshold and committed == 0
            left = rows(db, "SELECT DISTINCT state FROM pledges WHERE variant_id = ?", variant)
            assert {s for (s,) in left} <= {"cancelled", "refunded"}
        if capacity is not None:
            assert units <= capacity
    regions = rows(db, "SELECT DISTINCT region FROM pledges WHERE campaign_id = ?", cid)
    assert len(regions) >= 3


def test_handoff_files_for_each_tipped_variant(tv_demo):
    summary, db, cid, _ = tv_demo
    tipped = {
        v
        for (v,) in rows(
            db,
            "SELECT variant_id FROM presale_offers WHERE campaign_id = ? AND state = 'tipped'",
            cid,
        )
    }
    handoffs = rows(db, "SELECT id, variant_id, quantity FROM handoffs WHERE campaign_id = ?", cid)
    assert {variant for _, variant, _ in handoffs} == tipped
    manifest = json.loads((summary.factory / "manifest.json").read_text())
    regions = set()
    for handoff_id, variant, quantity in handoffs:
        for kind in KINDS:
            assert (summary.factory / f"{handoff_id}{kind}").is_file()
            assert f"{handoff_id}{kind}" in manifest["files"]
        record = json.loads((summary.factory / f"{handoff_id}.json").read_text())
        confirmed = one(
            db,
            f"SELECT SUM(quantity) FROM pledges WHERE variant_id = ? "
            f"AND state IN ({','.join('?' * len(CONFIRMED))})",
            variant,
            *CONFIRMED,
        )
        assert record["quantity"]["confirmed"] == confirmed
        assert sum(wo["quantity"] for wo in record["work_orders"]) == quantity
        regions.update(d["region"] for d in record["destinations"])
    assert len(regions) >= 3
    assert summary.report.is_file() and summary.slug in summary.report.read_text()


def test_handoff_b2mml_is_valid(tv_demo):
    summary, *_ = tv_demo
    schema = b2mml_schema()
    documents = sorted(summary.factory.glob("*.b2mml.xml"))
    assert documents
    for path in documents:
        schema.assertValid(etree.parse(str(path)))


def _campaign_figures(db, slug):
    cid = one(db, "SELECT id FROM campaigns WHERE slug = ?", slug)
    return {
        "wishes": rows(
            db,
            "SELECT valid, COUNT(*), SUM(quantity) FROM wishes WHERE campaign_id = ? "
            "GROUP BY valid",
            cid,
        ),
        "variants": rows(
            db,
            "SELECT key, covered_quantity FROM variants WHERE campaign_id = ? ORDER BY position",
            cid,
        ),
        "offers": rows(
            db,
            "SELECT position, state, threshold, capacity, units_at_close FROM presale_offers "
            "WHERE campaign_id = ? ORDER BY position",
            cid,
        ),
        "pledges": rows(
            db,
            "SELECT state, region, COUNT(*), SUM(quantity) FROM pledges WHERE campaign_id = ? "
            "GROUP BY state, region",
            cid,
        ),
        "handoffs": rows(
            db, "SELECT quantity FROM handoffs WHERE campaign_id = ? ORDER BY position", cid
        ),
    }


def test_cli_runs_twice_with_a_fresh_slug_and_the_same_figures(tmp_path):
    db, out = tmp_path / "c2m.db", tmp_path / "out"
    runner = CliRunner()
    args = ["--db", str(db), "demo", "--wishes", "300", "--seed", "5", "--out", str(out)]
    first = runner.invoke(cli, args)
    second = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "campaign demo-tv (tv)" in first.stdout
    assert "campaign demo-tv-2 (tv)" in second.stdout
    for stage in ("wishes", "aggregate", "vote", "pre-sale", "tipped", "hand-off", "report"):
        assert stage in second.stdout
    report = Path(re.search(r"^  report\s+(\S+)", second.stdout, re.M).group(1))
    factory = Path(re.search(r"^  factory\s+(\S+?)/?\s", second.stdout, re.M).group(1))
    assert report == out / "demo-tv-2" / "report.html" and report.is_file()
    assert factory == out / "demo-tv-2" / "factory"
    assert list(factory.glob("HO-demo-tv-2-V*.json"))
    assert _campaign_figures(db, "demo-tv") == _campaign_figures(db, "demo-tv-2")


@pytest.mark.parametrize("category", ["toilet-seat", "fridge"])
def test_other_categories(tmp_path, category):
    with C2M(tmp_path / "c2m.db") as app:
        summary = run_demo(app, category, wishes=200, seed=3, out=tmp_path / "out")
    assert app.campaigns.get(summary.slug).state == "closed"
    assert summary.tipped and summary.failed
    assert summary.handoff.handoffs and not summary.handoff.undelivered()
    for handoff in summary.handoff.handoffs:
        assert (summary.factory / f"{handoff.id}.b2mml.xml").is_file()
    assert summary.report.is_file()


def test_bad_input_is_refused(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "c2m.db")
    few = runner.invoke(cli, ["--db", db, "demo", "--wishes", "5"])
    assert few.exit_code == 2 and "--wishes" in few.output
    unknown = runner.invoke(cli, ["--db", db, "demo", "--category", "radio"])
    assert unknown.exit_code == 2 and "tv" in unknown.output
    with C2M(tmp_path / "c2m.db") as app:
        with pytest.raises(InvalidInput, match="wishes"):
            run_demo(app, wishes=True, out=tmp_path)
        app.campaigns.create("taken", "tv")
        with pytest.raises(Conflict, match="already exists"):
            run_demo(app, wishes=100, slug="taken", out=tmp_path)
        (tmp_path / "kept").mkdir()
        with pytest.raises(InvalidInput, match="exists already"):
            run_demo(app, wishes=100, slug="kept", out=tmp_path)
        assert [c.slug for c in app.campaigns.list()] == ["taken"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 5000), min_size=2, max_size=5))
def test_presale_plan_fails_the_least_wanted_and_tips_the_others(would_buy):
    plan = plan_presale(dict(enumerate(would_buy, start=1)))
    assert plan.threshold >= 1
    assert plan.units[plan.failing] < plan.threshold
    top = max(plan.units.values())
    for variant, units in plan.units.items():
        if variant != plan.failing:
            assert units >= plan.threshold
    if plan.capacity is not None:
        assert plan.threshold <= plan.capacity < top


@given(st.integers(1, 10**6), st.integers(0, 10**6))
def test_nice_between_stays_in_range(low, spread):
    assert low <= nice_between(low, low + spread) <= low + spread


def test_every_event_the_demo_writes_is_registered_with_its_payload_fields(tv_demo):
    from c2m_core.events import EVENT_TYPES

    _, db, _, _ = tv_demo
    written = set()
    for type_, payload, slug in rows(
        db,
        "SELECT type, payload, slug FROM events LEFT JOIN campaigns ON campaigns.id = campaign_id",
    ):
        assert type_ in EVENT_TYPES, type_
        data = json.loads(payload)
        missing = set(EVENT_TYPES[type_].fields) - set(data)
        assert not missing, (type_, missing)
        if "campaign" in EVENT_TYPES[type_].fields and type_ != "campaign.created":
            assert data["campaign"] == slug, type_
        written.add(type_)
    # the stages a shop acts on besides the pre-sale: their payloads name the campaign by slug
    assert {
        "campaign.advanced",
        "vote.opened",
        "vote.closed",
        "handoff.delivered",
    } <= written
    assert written & {"ballot.cast", "ballots.imported"}
