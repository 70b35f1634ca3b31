"""``c2m presale`` and ``c2m pledge`` on the command line: tables, --json, exit codes."""

import datetime
import json

import pytest
from click.testing import CliRunner

from c2m_core import C2M
from c2m_core.cli import make_cli
from c2m_core.cli.presale import parse_variant_option, progress_bar, time_left
from c2m_core.errors import InvalidInput

SMALL = {"size": "s", "stand": "feet"}
LARGE = {"size": "l", "stand": "wall"}
NOW = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)


@pytest.fixture
def app(tmp_path, mini_catalog, category_plugin):
    with C2M(
        tmp_path / "c2m.db", plugins=[category_plugin(mini_catalog)], clock=lambda: NOW
    ) as app:
        app.campaigns.create("c", "mini", stages=["presale"])
        app.variants.add("c", SMALL)
        app.variants.add("c", LARGE)
        app.campaigns.advance("c")
        yield app


@pytest.fixture
def run(app):
    def run(*args):
        return CliRunner().invoke(make_cli(), list(args), obj=app)

    return run


def test_open_with_per_variant_options_then_status_json(run):
    result = run(
        "presale", "open", "c", "--deadline", "2030-01-03T00:00:00Z", "--deposit", "10%",
        "--threshold", "3", "--capacity", "10", "--variant-option", "2:threshold=1,capacity=none",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2d 0h left" in result.output
    run("pledge", "add", "c", "--variant", "1", "--customer", "ann", "--quantity", "2",
        "--key", "o1", "--region", "eu")  # fmt: skip
    data = json.loads(run("presale", "status", "c", "--json").output)
    assert data["seconds_left"] == 2 * 86400
    first, second = data["variants"]
    assert (first["committed_units"], first["threshold"], first["capacity"]) == (2, 3, 10)
    assert (first["deposits_committed"], first["value_committed"], first["currency"]) == (
        2000,
        20000,
        "EUR",
    )
    assert (second["threshold"], second["capacity"], second["units_left"]) == (1, None, None)
    text = run("presale", "status", "c").output
    assert "[#############-------]  66%" in text and "EUR 20.00" in text


def test_pledge_errors_exit_1_for_sold_out_and_2_for_bad_input(run):
    run("presale", "open", "c", "--deadline", "7d", "--capacity", "2")
    sold_out = run("pledge", "add", "c", "--variant", "1", "--customer", "a", "--quantity", "3",
                   "--key", "k")  # fmt: skip
    assert sold_out.exit_code == 1 and "sold out for 3 unit(s): 2 left" in sold_out.output
    bad = run("pledge", "add", "c", "--variant", "1", "--customer", "a", "--quantity", "0",
              "--key", "k")  # fmt: skip
    assert bad.exit_code == 2 and "quantity: 0" in bad.output
    bad_deposit = run("presale", "open", "c", "--deadline", "7d", "--deposit", "ten")
    assert bad_deposit.exit_code == 2 and "deposit: 'ten' is not an amount of EUR" in (
        bad_deposit.output
    )


def test_cancel_then_list(run):
    run("presale", "open", "c", "--deadline", "7d", "--deposit", "10%")
    run("pledge", "add", "c", "--variant", "1", "--customer", "a", "--quantity", "1", "--key", "k")
    result = run("pledge", "cancel", "c", "--key", "k", "--json")
    assert result.exit_code == 0 and json.loads(result.output)["state"] == "refunded"
    listed = json.loads(run("pledge", "list", "c", "--state", "refunded", "--json").output)
    assert [p["key"] for p in listed] == ["k"]


def test_import_reports_every_rejected_row_and_places_the_rest(run, app, tmp_path):
    run("presale", "open", "c", "--deadline", "7d", "--capacity", "5")
    path = tmp_path / "pledges.csv"
    path.write_text(
        "variant,customer,quantity,key,region\n"
        "1,ann,2,k1,eu\n"
        "1,bob,x,k2,\n"
        "9,cat,1,k3,\n"
        "1,dan,9,k4,\n"
        "2,eve,1,k5,\n"
        "1,fay,1,k1,\n",
        encoding="utf-8",
    )
    result = run("pledge", "import", "c", str(path), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["placed"], report["units"]) == (2, 3)
    assert [(r["line"], r["key"]) for r in report["rejected"]] == [
        (3, "k2"),
        (4, "k3"),
        (5, "k4"),
        (7, "k1"),
    ]
    problems = [r["reason"] for r in report["rejected"]]
    assert "quantity: 'x' is not a whole number" in problems[0]
    assert "variant: 9 is not on sale" in problems[1]
    assert "sold out for 9 unit(s): 3 left" in problems[2]
    assert "repeats line 2" in problems[3]
    assert [p.key for p in app.presale.pledges("c")] == ["k1", "k5"]


def test_strict_import_places_nothing_when_a_row_is_malformed(run, app, tmp_path):
    run("presale", "open", "c", "--deadline", "7d")
    path = tmp_path / "pledges.csv"
    path.write_text("variant,customer,quantity,key\n1,ann,2,k1\n1,bob,,k2\n", encoding="utf-8")
    result = run("pledge", "import", "c", str(path), "--strict")
    assert result.exit_code == 1 and "nothing was placed" in result.output
    assert "line 3 (key k2): quantity: None is not a whole number" in result.output
    assert app.presale.pledges("c") == []
    path.write_text("variant,who,quantity,key\n", encoding="utf-8")
    missing = run("pledge", "import", "c", str(path))
    assert missing.exit_code == 2 and "missing column(s) customer" in missing.output


def test_close_retry_and_charge(run, app):
    run("presale", "open", "c", "--deadline", "7d", "--deposit", "10%", "--threshold", "1")
    run("pledge", "add", "c", "--variant", "1", "--customer", "a", "--quantity", "1", "--key", "k")
    closed = run("presale", "close", "c", "--yes")
    assert closed.exit_code == 0 and "tipped" in closed.output and "failed" in closed.output
    assert "payments: 0 succeeded" in run("presale", "retry", "c").output
    charged = run("presale", "charge", "c", "--json")
    assert json.loads(charged.output)["payments_succeeded"] == 1
    assert app.presale.pledge("c", "k").state == "paid"


def test_formatting_helpers():
    assert progress_bar(0, 4) == "[--------------------]   0%"
    assert progress_bar(6, 4) == "[####################] 150%"
    assert time_left(90061) == "1d 1h left" and time_left(3000) == "50m left"
    assert parse_variant_option("3:threshold=50,capacity=200") == (
        3,
        {"threshold": 50, "capacity": 200},
    )
    with pytest.raises(InvalidInput, match="--variant-option: '3:price=1'"):
        parse_variant_option("3:price=1")
