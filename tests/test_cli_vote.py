"""``c2m variant`` and ``c2m vote`` from the command line."""

import json

import pytest
from click.testing import CliRunner
from voting_support import VALID_TVS

from c2m_core.cli import make_cli


@pytest.fixture
def c2m(tmp_path):
    db = str(tmp_path / "c2m.db")

    def run(*args, code=0):
        result = CliRunner().invoke(make_cli(), ["--db", db, *args])
        assert result.exit_code == code, result.output
        return result.stdout if code == 0 else result.output

    return run


@pytest.fixture
def campaign(c2m):
    c2m("campaign", "create", "tv26", "--category", "tv", "--stages", "vote,presale")
    for tv in VALID_TVS[:4]:
        c2m("variant", "add", "tv26", *tv.split())
    c2m("campaign", "advance", "tv26")
    return "tv26"


def test_variant_add_checks_the_catalog_and_lists_every_violation(c2m):
    c2m("campaign", "create", "tv26", "--category", "tv")
    out = c2m("variant", "add", "tv26", *VALID_TVS[1].split(), "--name", "Gamer 65")
    assert out == "added variant 1 to tv26: Gamer 65\n"
    out = c2m("variant", "add", "tv26", *VALID_TVS[1].split())
    assert out.startswith("variant 1 already has this configuration")
    out = c2m(
        "variant",
        "add",
        "tv26",
        *["size=85-4k", "backlight=direct-led", "appearance=walnut"],
        *["functions=family", "base=feet"],
        code=2,
    )
    assert "not a valid variant: 2 violation(s)" in out
    assert "  - large-panel-base: Panels of 85 inches and up need" in out
    assert "  - walnut-size: Walnut veneer frames are made up to 65 inches" in out
    out = c2m("variant", "add", "tv26", "size=55-4k", "colour=red", code=2)
    assert "unknown-module: unknown module 'colour'" in out
    assert "lcd-needs-backlight: An LCD panel needs a backlight" in out
    assert "required: module 'appearance'" in out
    c2m("variant", "add", "tv26", "size", code=2)
    listed = json.loads(c2m("variant", "list", "tv26", "--json"))
    assert [(v["id"], v["name"], v["source"]) for v in listed] == [(1, "Gamer 65", "manual")]
    assert "Gamer 65" in c2m("variant", "list", "tv26")


def test_plurality_vote_from_open_to_presale(c2m, campaign):
    out = c2m("vote", "open", "tv26", "--method", "plurality", "--closes", "2999-01-01T00:00Z")
    assert out.startswith("opened a plurality vote on variants 1, 2, 3, 4 for tv26")
    assert c2m("vote", "cast", "tv26", "--voter", "ann", "--choice", "2") == "ballot of ann cast\n"
    out = c2m("vote", "cast", "tv26", "--voter", "ann", "--choice", "3")
    assert out == "ballot of ann replaced (the earlier one is kept in the history)\n"
    c2m("vote", "cast", "tv26", "--voter", "ben", "--choice", "2")
    out = c2m("vote", "cast", "tv26", "--voter", "cat", "--choice", "9", code=2)
    assert "variant 9 is not a candidate of this vote; candidates are 1, 2, 3, 4" in out
    out = c2m("vote", "cast", "tv26", "--voter", "cat", "--rank", "1>2", code=2)
    assert "ballot field 'rank' is not read by the plurality method; its fields: choice" in out
    c2m("vote", "cast", "tv26", "--voter", "cat", code=2)
    out = c2m("campaign", "advance", "tv26", code=1)
    assert "the vote is still open; run `c2m vote close tv26`" in out
    out = c2m("vote", "results", "tv26")
    assert "open: provisional count; 2 ballot(s)" in out
    out = c2m("vote", "close", "tv26", "--yes")
    assert out == "closed the vote of tv26: 2 ballot(s); winners: 2\n"
    out = c2m("vote", "results", "tv26")
    assert "Winners (1): 2" in out
    assert "variants 2 and 3 tied with 1 vote each for places 1 to 2" in out
    assert "variants 1 and 4 tied with 0 votes each for places 3 to 4" in out
    c2m("vote", "cast", "tv26", "--voter", "dan", "--choice", "1", code=1)
    history = json.loads(c2m("vote", "history", "tv26", "--json"))
    assert [(h["voter"], h["ballot"]) for h in history] == [("ann", {"choice": 2})]
    assert "presale" in c2m("campaign", "advance", "tv26")


def test_schulze_results_show_matrices_and_ties_in_json(c2m, campaign):
    c2m("vote", "open", "tv26", "--method", "schulze", "--variants", "4,2,1", "--winners", "2")
    c2m("vote", "cast", "tv26", "--voter", "ann", "--rank", "4>1=2")
    c2m("vote", "cast", "tv26", "--voter", "ben", "--rank", "2>4")
    c2m("vote", "cast", "tv26", "--voter", "cat", "--ballot", '{"rank": [[1], [2, 4]]}')
    out = c2m("vote", "results", "tv26")
    assert "Pairwise preferences d[row][column]" in out
    assert "Strongest paths p[row][column]" in out
    data = json.loads(c2m("vote", "results", "tv26", "--json"))
    assert data["final"] is False
    assert data["candidates"] == [1, 2, 4]
    # ann: 4 > 1 = 2; ben: 2 > 4 > 1; cat: 1 > 2 = 4. Only 4 over 1 (2 to 1) is a defeat.
    assert data["details"]["d"] == [[0, 1, 1], [1, 0, 1], [2, 1, 0]]
    assert data["details"]["p"] == [[0, 0, 0], [0, 0, 0], [2, 0, 0]]
    assert data["ranking"] == [2, 4, 1]
    assert data["winners"] == [2, 4]
    assert data["tie_breaks"] == [
        "variants 2 and 4 were tied for place 1: neither beats the other by strongest paths "
        "(p[2][4] = 0, p[4][2] = 0); variant 2 takes place 1 because it comes earlier in "
        "candidate order; both advance"
    ]
    closed = json.loads(c2m("vote", "close", "tv26", "--yes", "--json"))
    assert closed["winners"] == [2, 4]


def test_approval_and_score_options(c2m, campaign):
    c2m("vote", "open", "tv26", "--method", "plurality", "--max-approvals", "2", code=2)
    c2m("vote", "open", "tv26", "--method", "approval", "--max-approvals", "2")
    c2m("vote", "cast", "tv26", "--voter", "ann", "--approve", "1,3")
    c2m("vote", "cast", "tv26", "--voter", "ben", "--approve", "3", "--approve", "4")
    out = c2m("vote", "cast", "tv26", "--voter", "cat", "--approve", "1,2,3", code=2)
    assert "allows at most 2" in out
    data = json.loads(c2m("vote", "results", "tv26", "--json"))
    assert [t["approvals"] for t in data["totals"]] == [1, 0, 2, 1]


def test_score_with_would_buy(c2m, campaign):
    c2m("vote", "open", "tv26", "--method", "score")
    c2m(
        "vote",
        "cast",
        "tv26",
        "--voter",
        "ann",
        "--score",
        "1=4",
        "--score",
        "2=5",
        "--would-buy",
        "2",
    )
    out = c2m("vote", "cast", "tv26", "--voter", "ben", "--score", "1=6", code=2)
    assert "score '6' for variant 1 is not a whole number from 0 to 5" in out
    data = json.loads(c2m("vote", "results", "tv26", "--json"))
    assert data["totals"][1] == {"variant": 2, "points": 5, "scored": 1, "would_buy": 1}


def test_import_lists_rejected_rows_and_exits_1(c2m, campaign, tmp_path):
    c2m("vote", "open", "tv26", "--method", "schulze")
    path = tmp_path / "ballots.csv"
    path.write_text("voter,rank\nann,3>1\nben,3>3\ncat,2=4>1\n")
    out = c2m("vote", "import", "tv26", str(path), code=1)
    assert "imported 2 ballot(s) (0 replaced an earlier ballot); 1 row(s) rejected" in out
    assert "line 3: ballot field 'rank': variant 3 is given twice" in out
    good = tmp_path / "good.jsonl"
    good.write_text('{"voter": "ann", "rank": "1>2"}\n')
    report = json.loads(c2m("vote", "import", "tv26", str(good), "--json"))
    assert report["imported"] == 1 and report["replaced"] == 1
    out = c2m("vote", "import", "tv26", str(path), "--strict", code=1)
    assert "strict import: nothing was imported" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("voter,choice\nann,1\n")
    out = c2m("vote", "import", "tv26", str(bad), code=2)
    assert "line 1: unknown column 'choice'; accepted: columns voter, rank" in out


def test_vote_methods_lists_the_defaults(c2m):
    out = c2m("vote", "methods")
    for name in ("plurality", "approval", "score", "schulze"):
        assert name in out
    assert json.loads(c2m("vote", "methods", "--json"))[1]["options"] == {
        "max_approvals": "the most variants one ballot may approve (default: all)"
    }


def test_vote_commands_on_a_campaign_without_a_vote(c2m, campaign):
    out = c2m("vote", "results", "tv26", code=2)
    assert "campaign 'tv26' has no vote; open one with `c2m vote open tv26 --method METHOD`" in out
    out = c2m("vote", "open", "nope", "--method", "plurality", code=2)
    assert "no campaign 'nope'" in out
