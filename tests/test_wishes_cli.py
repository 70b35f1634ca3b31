"""``c2m wish``: add, import, stats and aggregate from the command line."""

import json

import pytest
from click.testing import CliRunner

from c2m_core.cli import make_cli


@pytest.fixture
def run(tmp_path):
    db = tmp_path / "c2m.db"
    runner = CliRunner()

    def run(*args):
        return runner.invoke(make_cli(), ["--db", str(db), *args], catch_exceptions=False)

    assert run("campaign", "create", "tv-2026", "--category", "tv").exit_code == 0
    assert run("campaign", "advance", "tv-2026").exit_code == 0
    return run


def test_add_valid_and_invalid_wishes(run):
    result = run("wish", "add", "tv-2026", "--customer", "u1", "size=65-oled", "base=feet")
    assert result.exit_code == 0
    assert result.output == "wish 1: size=65-oled;base=feet x1\n"
    result = run(
        "wish",
        "add",
        "tv-2026",
        "--customer",
        "u2",
        "--quantity",
        "2",
        "size=43-4k",
        "backlight=mini-led",
    )
    assert result.exit_code == 0
    assert "wish 2: size=43-4k;backlight=mini-led x2 stored as invalid" in result.output
    assert "mini-led-size: Mini-LED backlights are made for 65 inches and up" in result.output
    assert "nearest valid: size=43-4k;backlight=direct-led" in result.output
    result = run(
        "wish",
        "add",
        "tv-2026",
        "--customer",
        "u3",
        "--text",
        "65寸 OLED",
        "--external-id",
        "o-1",
        "--json",
    )
    data = json.loads(result.output)
    assert data["configuration"] == {"size": "65-oled"} and data["external_id"] == "o-1"
    again = run("wish", "add", "tv-2026", "--customer", "u9", "--external-id", "o-1", "--json")
    assert json.loads(again.output)["id"] == data["id"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--quantity", "0", "size=55-4k"], "quantity: 0 is not accepted"),
        (["size=55-4x"], "unknown option '55-4x' for module 'size'; did you mean '55-4k'?"),
        (["colour=red"], "unknown module 'colour'"),
        (["size"], "'size' is not MODULE=OPTION"),
        (["--note", "x" * 20_000, "size=55-4k"], "note: 20,000 characters is too long"),
    ],
)
def test_add_refuses_bad_input_with_exit_code_2(run, args, message):
    result = run("wish", "add", "tv-2026", "--customer", "u1", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert json.loads(run("wish", "stats", "tv-2026", "--json").output)["wishes"] == 0


def test_unknown_campaign_and_wrong_state(run):
    result = run("wish", "add", "nope", "--customer", "u1")
    assert result.exit_code == 2 and "no campaign 'nope'" in result.output
    run("campaign", "advance", "tv-2026")
    result = run("wish", "add", "tv-2026", "--customer", "u1")
    assert result.exit_code == 1 and "is in state 'vote'; this needs 'wishes'" in result.output


def test_import_reports_rejected_rows_and_is_idempotent(run, tmp_path):
    path = tmp_path / "wishes.csv"
    path.write_text(
        "external_id,customer,quantity,size,base\n"
        "a,u1,1,65-oled,feet\n"
        "b,u2,zero,55-4k,\n"
        "c,u3,3,55-4k,wall-mount\n",
        encoding="utf-8",
    )
    result = run("wish", "import", "tv-2026", str(path))
    assert result.exit_code == 1  # some rows rejected, the others stored
    assert "imported 2 wishes" in result.stdout and "1 rows rejected" in result.stdout
    assert "line 3: quantity: 'zero' is not accepted" in result.stderr
    result = run("wish", "import", "tv-2026", str(path), "--json")
    report = json.loads(result.stdout)
    assert (report["imported"], report["duplicates"], len(report["rejected"])) == (0, 2, 1)
    result = run("wish", "import", "tv-2026", str(path), "--strict")
    assert result.exit_code == 1
    assert "1 of 3 rows rejected; nothing was imported" in result.output
    latin = tmp_path / "latin.csv"
    latin.write_bytes("customer,size\nJosé,55-4k\n".encode("latin-1"))
    result = run("wish", "import", "tv-2026", str(latin))
    assert result.exit_code == 2 and "not UTF-8 text" in result.output


def test_stats_and_aggregate(run):
    for i in range(3):
        run("wish", "add", "tv-2026", "--customer", f"a{i}", "size=65-4k", "base=wall-mount")
    run("wish", "add", "tv-2026", "--customer", "b", "size=77-oled")
    run("wish", "add", "tv-2026", "--customer", "c", "size=100-4k", "base=swivel")
    result = run("wish", "stats", "tv-2026")
    assert result.exit_code == 0
    assert "5 wishes for 5 units; valid: 4 wishes, 4 units (80.0%)" in result.output
    assert "large-panel-base" in result.output
    stats = json.loads(run("wish", "stats", "tv-2026", "--json").output)
    assert stats["valid_share"] == 0.8

    result = run("wish", "aggregate", "tv-2026", "--max-variants", "1")
    assert result.exit_code == 0
    assert "size=65-4k;backlight=direct-led;appearance=graphite;functions=essential;" in (
        result.output
    )
    assert "cover 3 of 4 valid units (75.0%)" in result.output
    assert "uncovered: 1 units" in result.output
    assert "size=77-oled" in result.output  # the largest uncovered demand
    data = json.loads(run("wish", "aggregate", "tv-2026", "--json").output)
    assert data["covered_quantity"] == 4 and data["share"] == 1.0
    assert [v["covered_quantity"] for v in data["variants"]] == [3, 1]
    result = run("wish", "aggregate", "tv-2026", "--moq", "0")
    assert result.exit_code == 2 and "moq: 0" in result.output
