"""The campaign report: figures checked against the database, optional stages, escaping.

The HTML is parsed (lxml) and every figure compared with what plain ``sqlite3`` queries or the
hand-off files on disk say, never with numbers written into the test.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner
from handoff_support import CINEMA_55

from c2m_core import C2M
from c2m_core.cli import cli
from c2m_core.demo import run_demo
from c2m_core.report import build_report, render_report, write_report

NOTE = "<script>alert('note')</script> quiet & slim"
RAW = '65寸 OLED <img src=x onerror="alert(1)">'
TITLE = "<b>Spring</b> & <script>steal()</script>"
REGION = "<i>north</i>"


def rows(db, sql, *params):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def one(db, sql, *params):
    return rows(db, sql, *params)[0][0]


def number(text: str) -> int:
    return int(text.strip().replace(",", ""))


def cell(doc, xpath: str, **variables) -> str:
    found = doc.xpath(xpath, **variables)
    assert len(found) == 1, f"{xpath} {variables}: {len(found)} matches"
    return found[0].text_content()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    db = folder / "c2m.db"
    with C2M(db) as app:
        summary = run_demo(app, "tv", wishes=500, seed=11, out=folder / "out")
        html = render_report(app, build_report(app, summary.slug))
        catalog = app.campaigns.catalog(app.campaigns.get(summary.slug))
    cid = one(db, "SELECT id FROM campaigns WHERE slug = ?", summary.slug)
    return summary, db, cid, catalog, lxml.html.fromstring(html), html


def test_funnel_matches_the_database(demo):
    summary, db, cid, _, doc, _ = demo
    expected = {
        "participants": one(
            db, "SELECT COUNT(DISTINCT customer) FROM wishes WHERE campaign_id = ?", cid
        ),
        "wishes": one(db, "SELECT COUNT(*) FROM wishes WHERE campaign_id = ?", cid),
        "valid_wishes": one(db, "SELECT COUNT(*) FROM wishes WHERE campaign_id = ? AND valid", cid),
        "ballots": one(
            db,
            "SELECT COUNT(*) FROM ballots JOIN votes ON votes.id = vote_id WHERE campaign_id = ?",
            cid,
        ),
        "pledges": one(db, "SELECT COUNT(*) FROM pledges WHERE campaign_id = ?", cid),
        "units_produced": one(db, "SELECT SUM(quantity) FROM handoffs WHERE campaign_id = ?", cid),
    }
    for key, value in expected.items():
        shown = cell(doc, "//tr[@data-funnel=$k]/td[@class='num']", k=key)
        assert number(shown) == value, key
    assert expected["participants"] < expected["wishes"]


def test_demand_per_option_matches_the_database(demo):
    _, db, cid, catalog, doc, _ = demo
    for module in catalog.modules:
        stored = dict(
            rows(
                db,
                "SELECT json_extract(configuration, ?) AS o, SUM(quantity) FROM wishes "
                "WHERE campaign_id = ? AND valid AND o IS NOT NULL GROUP BY o",
                f'$."{module.id}"',
                cid,
            )
        )
        shown = {
            tr.get("data-label"): int(tr.get("data-value"))
            for tr in doc.xpath("//table[@data-chart=$c]//tr", c=f"demand-{module.id}")
        }
        assert shown == {option.title: stored.get(option.id, 0) for option in module.options}
        assert sum(shown.values()) > 0


def test_coverage_and_variants_match_the_database(demo):
    _, db, cid, _, doc, _ = demo
    covered = one(
        db,
        "SELECT SUM(covered_quantity) FROM variants WHERE campaign_id = ? AND source = 'aggregate'",
        cid,
    )
    total = one(db, "SELECT SUM(quantity) FROM wishes WHERE campaign_id = ? AND valid", cid)
    (paragraph,) = doc.xpath("//p[@data-coverage]")
    assert paragraph.get("data-coverage") == f"{covered}/{total}"
    assert f"{covered / total:.1%}" in paragraph.text_content()
    for variant, name, quantity in rows(
        db, "SELECT id, name, covered_quantity FROM variants WHERE campaign_id = ?", cid
    ):
        (tr,) = doc.xpath("//table[@class='variants']//tr[@data-variant=$v]", v=str(variant))
        assert int(tr.get("data-value")) == quantity
        assert name in tr.text_content()


def test_vote_totals_and_winners_match_the_ballots(demo):
    _, db, cid, _, doc, _ = demo
    points, would_buy = Counter(), Counter()
    for (text,) in rows(
        db, "SELECT ballot FROM ballots JOIN votes ON votes.id = vote_id WHERE campaign_id = ?", cid
    ):
        ballot = json.loads(text)
        for variant, score in ballot["score"]:
            points[variant] += score
        would_buy.update(ballot.get("would_buy", []))
    result = json.loads(one(db, "SELECT result FROM votes WHERE campaign_id = ?", cid))
    for variant in result["candidates"]:
        row = "//table[@class='vote']//tr[@data-variant=$v]"
        shown_points = cell(doc, row + "/td[@data-total='points']", v=str(variant))
        shown_buy = cell(doc, row + "/td[@data-total='would_buy']", v=str(variant))
        assert (number(shown_points), number(shown_buy)) == (points[variant], would_buy[variant])
        (tr,) = doc.xpath(row, v=str(variant))
        assert (tr.get("class") == "winner") == (variant in result["winners"])
    assert doc.xpath("//*[contains(@class, 'tie-breaks')]")


def test_presale_rows_match_the_offers(demo):
    _, db, cid, _, doc, _ = demo
    offers = rows(
        db,
        "SELECT variant_id, state, threshold, capacity, units_at_close FROM presale_offers "
        "WHERE campaign_id = ?",
        cid,
    )
    assert {state for _, state, *_ in offers} == {"tipped", "failed"}
    for variant, state, threshold, capacity, units in offers:
        row = "//table[@class='presale']//tr[@data-variant=$v]"
        v = str(variant)
        assert number(cell(doc, row + "/td[@data-field='units']", v=v)) == units
        assert number(cell(doc, row + "/td[@data-field='threshold']", v=v)) == threshold
        shown_capacity = cell(doc, row + "/td[@data-field='capacity']", v=v)
        if capacity is None:
            assert shown_capacity == "no limit"
        else:
            assert number(shown_capacity) == capacity
        assert cell(doc, row + f"/td[@class='state-{state}']", v=v) == state
        pledges = one(db, "SELECT COUNT(*) FROM pledges WHERE variant_id = ?", variant)
        assert number(cell(doc, row + "/td[@data-field='pledges']", v=v)) == pledges


def test_production_plan_matches_the_handoff_files(demo):
    summary, db, cid, _, doc, _ = demo
    handoffs = [h for (h,) in rows(db, "SELECT id FROM handoffs WHERE campaign_id = ?", cid)]
    assert handoffs
    shown = {
        tr.get("data-work-order"): number(tr.xpath("td")[4].text_content())
        for tr in doc.xpath("//tr[@data-work-order]")
    }
    expected = {}
    for handoff in handoffs:
        record = json.loads((summary.factory / f"{handoff}.json").read_text())
        expected |= {wo["id"]: wo["quantity"] for wo in record["work_orders"]}
        (section,) = doc.xpath("//div[@data-handoff=$h]", h=handoff)
        for destination in record["destinations"]:
            assert destination["warehouse"] in section.text_content()
    assert shown == expected


def test_the_page_is_self_contained(demo):
    *_, doc, html = demo
    assert not doc.xpath("//script | //link | //iframe | //img | //object | //embed")
    for element in doc.iter():
        for name, value in element.attrib.items():
            assert name not in ("src", "href"), (element.tag, name)
            assert "://" not in value, (element.tag, name, value)
    style = " ".join(s.text_content() for s in doc.xpath("//style"))
    assert "url(" not in style and "@import" not in style
    assert len(doc.xpath("//svg")) >= 10  # the charts are inline SVG


@pytest.fixture
def hostile(tmp_path):
    """A campaign without a vote, whose consumer text and title try to inject markup."""
    with C2M(tmp_path / "c2m.db") as app:
        app.campaigns.create("hostile", "tv", title=TITLE, stages=["wishes", "presale", "handoff"])
        app.campaigns.advance("hostile")
        app.wishes.submit("hostile", "c1", {"size": "65-oled"}, note=NOTE)
        app.wishes.submit("hostile", "c2", raw=RAW)
        variant = app.variants.add("hostile", CINEMA_55)
        app.campaigns.advance("hostile")
        app.presale.open("hostile", "7d", threshold=1)
        app.presale.place("hostile", variant.id, "<c3>", 2, "k1", region=REGION)
        app.presale.close("hostile")
        app.handoff.run("hostile", [f"dir:{tmp_path / 'factory'}"])
        path = write_report(app, "hostile", tmp_path / "report.html")
    return path.read_text(encoding="utf-8")


def test_consumer_text_stays_escaped(hostile):
    doc = lxml.html.fromstring(hostile)
    assert not doc.xpath("//script | //img | //i")
    assert "&lt;script&gt;alert(" in hostile
    assert doc.xpath("//h1")[0].text_content() == TITLE
    texts = [td.text_content() for td in doc.xpath("//td[@class='consumer']")]
    assert NOTE in texts and RAW in texts
    regions = [
        tr.xpath("td")[0].text_content()
        for tr in doc.xpath("//table[@class='destinations']//tr[td]")
    ]
    assert regions == [REGION]


def test_a_skipped_stage_says_so(hostile):
    doc = lxml.html.fromstring(hostile)
    assert "skipped" in cell(doc, "//*[@data-empty='vote']")
    assert cell(doc, "//tr[@data-funnel='ballots']/td[@class='num']") == "—"
    assert number(cell(doc, "//tr[@data-funnel='pledges']/td[@class='num']")) == 1


def test_a_draft_campaign_has_every_stage_not_started(tmp_path):
    with C2M(tmp_path / "c2m.db") as app:
        app.campaigns.create("plans", "fridge")
        doc = lxml.html.fromstring(render_report(app, build_report(app, "plans")))
    for stage in ("wishes", "aggregation", "vote", "presale", "production"):
        assert "not started" in cell(doc, "//*[@data-empty=$s]", s=stage)
    assert {td.text_content() for td in doc.xpath("//tr[@data-funnel]/td[@class='num']")} == {"—"}


def test_an_open_vote_shows_a_provisional_count(tmp_path):
    with C2M(tmp_path / "c2m.db") as app:
        app.campaigns.create("poll", "tv", stages=["vote"])
        first = app.variants.add("poll", CINEMA_55)
        second = app.variants.add("poll", CINEMA_55 | {"appearance": "silver"})
        app.campaigns.advance("poll")
        app.voting.open("poll", "plurality")
        for voter, choice in (("a", second.id), ("b", first.id), ("c", second.id), ("d", first.id)):
            app.voting.cast("poll", voter, {"choice": choice})
        doc = lxml.html.fromstring(render_report(app, build_report(app, "poll")))
        result = app.voting.results("poll")
    assert "provisional" in cell(doc, "//section[@id='vote']/p[1]")
    for total in result.totals:
        row = "//tr[@data-variant=$v]/td[@data-total='votes']"
        assert number(cell(doc, row, v=str(total["variant"]))) == total["votes"]
    assert result.tie_breaks  # two votes each: the earlier variant is placed first
    shown = [li.text_content() for li in doc.xpath("//ul[@class='tie-breaks']/li")]
    assert shown == list(result.tie_breaks)
    assert "skipped" in cell(doc, "//*[@data-empty='wishes']")
    assert number(cell(doc, "//tr[@data-funnel='ballots']/td[@class='num']")) == 4


def test_cli_writes_the_report(tmp_path, monkeypatch):
    db = tmp_path / "c2m.db"
    with C2M(db) as app:
        app.campaigns.create("launch", "toilet-seat", title="Launch <2026>")
    runner = CliRunner()
    target = tmp_path / "launch.html"
    written = runner.invoke(cli, ["--db", str(db), "report", "launch", "-o", str(target)])
    assert written.exit_code == 0, written.output
    assert str(target) in written.output
    assert "Launch &lt;2026&gt;" in target.read_text(encoding="utf-8")
    printed = runner.invoke(cli, ["--db", str(db), "report", "launch", "-o", "-"])
    assert printed.exit_code == 0 and printed.output.startswith("<!DOCTYPE html>")
    assert "Launch &lt;2026&gt;" in printed.output
    monkeypatch.chdir(tmp_path)
    default = runner.invoke(cli, ["--db", str(db), "report", "launch"])
    assert default.exit_code == 0 and Path("launch-report.html").is_file()
    missing = runner.invoke(cli, ["--db", str(db), "report", "nope", "-o", str(target)])
    assert missing.exit_code == 2 and "no campaign 'nope'" in missing.output
