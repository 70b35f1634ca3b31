"""No traceback for any input: databases that are missing, foreign, not SQLite or read-only,
numbers beyond 64 bits, output paths in folders that do not exist; --db anywhere; lazy imports."""

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from c2m_core.cli import make_cli

CLI = "from c2m_core.cli import cli; cli()"


def c2m(*args, env=None):
    return CliRunner().invoke(make_cli(), [str(a) for a in args], env=env)


def test_importing_the_cli_loads_no_heavy_library():
    code = (
        "import sys, c2m_core.cli, c2m_core\n"
        "heavy = ('jinja2', 'sqlite_utils', 'sqlite3', 'pysat', 'fastapi', 'psycopg', 'numpy')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_catalog_command_loads_neither_the_store_nor_jinja2(tmp_path):
    code = (
        f"import sys\nsys.argv = ['c2m', 'catalog', 'list']\n{CLI.split(';')[0]}\n"
        "try:\n    cli()\nexcept SystemExit:\n    pass\n"
        "heavy = ('jinja2', 'sqlite_utils', 'sqlite3', 'pysat', 'fastapi', 'psycopg', 'numpy')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert list(tmp_path.iterdir()) == []  # and no database was created


def test_db_is_accepted_after_the_subcommand(tmp_path):
    db = tmp_path / "after.db"
    made = c2m("campaign", "create", "tv-1", "--category", "tv", "--title", "T", "--db", db)
    assert made.exit_code == 0, made.output
    assert db.exists()
    shown = c2m("campaign", "show", "tv-1", "--db", db)
    assert shown.exit_code == 0 and "tv-1" in shown.output
    assert c2m("--db", db, "campaign", "show", "tv-1").exit_code == 0


def test_a_missing_database_is_named_not_created_by_commands_that_read(tmp_path):
    db = tmp_path / "missing.db"
    for args in (
        ("campaign", "show", "x"),
        ("wish", "stats", "x"),
        ("presale", "status", "x"),
        ("vote", "results", "x"),
    ):
        result = c2m("--db", db, *args)
        assert result.exit_code == 2, (args, result.output)
        assert f"database {db} does not exist" in result.output
        assert "c2m campaign create" in result.output
        assert not db.exists()


def test_a_database_in_a_folder_that_does_not_exist(tmp_path):
    db = tmp_path / "no" / "such" / "c2m.db"
    result = c2m("--db", db, "campaign", "show", "x")
    assert result.exit_code == 2 and f"database {db} does not exist" in result.output
    assert not db.parent.exists()
    result = c2m("--db", db, "campaign", "create", "x", "--category", "tv", "--title", "X")
    assert result.exit_code == 0 and db.exists()  # a command that creates makes its folder


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    db = tmp_path / "notes.txt"
    db.write_text("shopping list\n" * 20)
    result = c2m("--db", db, "campaign", "list")
    assert result.exit_code == 2 and "is not a SQLite database" in result.output
    assert db.read_text() == "shopping list\n" * 20


def test_another_programs_sqlite_file_is_refused_and_left_alone(tmp_path):
    db = tmp_path / "other.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("create table orders (id integer primary key, total real)")
    before = db.read_bytes()
    result = c2m("--db", db, "campaign", "create", "x", "--category", "tv", "--title", "X")
    assert result.exit_code == 2, result.output
    assert "belongs to another program (tables: orders)" in result.output
    assert db.read_bytes() == before


def _make_read_only(path: Path) -> None:
    """Read-only even for root: the immutable attribute; for other users, file modes."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        path.parent.chmod(0o555)
        return
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("running as root without chattr: cannot make a file read-only")


def _make_writable(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)
    path.parent.chmod(stat.S_IRWXU)
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_a_read_only_database_gets_a_message_not_a_traceback(tmp_path):
    db = tmp_path / "ro" / "c2m.db"
    db.parent.mkdir()
    made = c2m("--db", db, "campaign", "create", "x", "--category", "tv", "--title", "X")
    assert made.exit_code == 0, made.output
    _make_read_only(db)
    try:
        done = subprocess.run(
            [sys.executable, "-c", CLI, "--db", str(db), "campaign", "advance", "x"],
            capture_output=True,
            text=True,
        )
    finally:
        _make_writable(db)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"database {db} is read-only" in done.stderr


HUGE = str(2**70)


@pytest.mark.parametrize(
    "args",
    [
        ("campaign", "create", "big", "--category", "tv", "--title", "B", "--moq", HUGE),
        ("wish", "add", "w", "--customer", "u", "--quantity", HUGE),
        ("wish", "add", "w", "--customer", "u", "--price-ceiling", HUGE),
        ("wish", "aggregate", "w", "--moq", HUGE),
        ("wish", "aggregate", "w", "--max-variants", HUGE),
        ("campaign", "show", HUGE),
    ],
)
def test_numbers_beyond_64_bits_are_refused_with_the_accepted_range(tmp_path, args):
    db = tmp_path / "c2m.db"
    c2m("--db", db, "campaign", "create", "w", "--category", "tv", "--title", "W")
    c2m("--db", db, "campaign", "advance", "w")
    result = c2m("--db", db, *args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code != 0 or args[-1] == HUGE and args[1] == "show"
    assert "Traceback" not in result.output


def test_settings_a_later_stage_would_refuse_are_refused_at_entry(tmp_path):
    db = tmp_path / "c2m.db"
    result = c2m("--db", db, "campaign", "create", "x", "--category", "tv", "--title", "X",
                 "--moq", HUGE)  # fmt: skip
    assert result.exit_code == 2
    assert "moq: 1180591620717411303424 is out of range; accepted: an integer from 1 to" in (
        result.output
    )


def test_report_to_a_folder_that_does_not_exist(tmp_path):
    db = tmp_path / "c2m.db"
    c2m("--db", db, "campaign", "create", "r", "--category", "tv", "--title", "R")
    out = tmp_path / "missing" / "r.html"
    result = c2m("--db", db, "report", "r", "--output", out)
    assert result.exit_code == 2 and f"the folder {out.parent} does not exist" in result.output


def test_money_options_take_major_units_and_say_so(tmp_path):
    db = tmp_path / "c2m.db"
    c2m("--db", db, "campaign", "create", "w", "--category", "tv", "--title", "W")
    c2m("--db", db, "campaign", "advance", "w")
    added = c2m("--db", db, "wish", "add", "w", "--customer", "u", "--price-ceiling", "4999.50",
                "size=65-oled", "--json")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert '"price_ceiling": 499950' in added.output  # stored as minor units
    bad = c2m("--db", db, "wish", "add", "w", "--customer", "u", "--price-ceiling", "49.999")
    assert bad.exit_code == 2 and "an amount of CNY in major units" in bad.output
    for command in (["wish", "add"], ["presale", "open"], ["reward", "rule"]):
        text = " ".join(c2m(*command, "--help").output.split())
        assert "major units" in text, command


@pytest.fixture
def shop(tmp_path, mini_catalog, category_plugin):
    from c2m_core import C2M

    with C2M(tmp_path / "c2m.db", plugins=[category_plugin(mini_catalog)]) as app:
        yield app


def invoke(app, *args, input=None):
    return CliRunner().invoke(make_cli(), [str(a) for a in args], obj=app, input=input)


def test_exports_write_csv_and_jsonl_that_the_imports_read_back(shop, tmp_path):
    import json

    shop.campaigns.create("w", "mini", stages=["wishes"])
    shop.campaigns.advance("w")
    invoke(shop, "wish", "add", "w", "--customer", "u1", "size=s", "stand=feet", "--quantity", "2")
    invoke(shop, "wish", "add", "w", "--customer", "u2", "size=l", "--region", "eu")
    csv_out = invoke(shop, "wish", "export", "w")
    assert csv_out.exit_code == 0, csv_out.output
    lines = csv_out.stdout.splitlines()
    assert lines[0].startswith("id,customer,quantity,region,price_ceiling")
    assert lines[1].endswith(",True,s,feet,") and lines[2].split(",")[1] == "u2"
    path = tmp_path / "out" / "wishes.jsonl"
    missing = invoke(shop, "wish", "export", "w", "--format", "jsonl", "-o", path)
    assert missing.exit_code == 2 and "does not exist" in missing.output
    path.parent.mkdir()
    assert invoke(shop, "wish", "export", "w", "--format", "jsonl", "-o", path).exit_code == 0
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["configuration"] for r in records] == [{"size": "s", "stand": "feet"}, {"size": "l"}]
    listed = invoke(shop, "wish", "list", "w")
    assert "size=s;stand=feet" in listed.output and "u2" in listed.output


def test_vote_and_pledge_exports(shop):
    shop.campaigns.create("v", "mini", stages=["vote", "presale"])
    a = shop.variants.add("v", {"size": "s", "stand": "feet"}).id
    shop.variants.add("v", {"size": "l", "stand": "wall"})
    shop.campaigns.advance("v")
    opened = invoke(shop, "vote", "open", "v", "--method", "plurality", "--closes", "3d")
    assert opened.exit_code == 0 and " until " in opened.output
    shop.voting.cast("v", "ann", {"choice": a})
    ballots = invoke(shop, "vote", "export", "v")
    assert ballots.stdout.splitlines()[0] == "voter,choice,cast_at"
    assert ballots.stdout.splitlines()[1].startswith(f"ann,{a},")
    refused = invoke(shop, "vote", "close", "v")
    assert refused.exit_code == 2 and "pass --yes" in refused.output
    assert shop.voting.require("v").state == "open"
    assert invoke(shop, "vote", "close", "v", input="y\n").exit_code == 2  # no terminal: no asking
    assert invoke(shop, "vote", "close", "v", "--yes").exit_code == 0
    shop.campaigns.advance("v")
    shop.presale.open("v", "7d", deposit="10%")
    shop.presale.place("v", a, "ann", 2, "o-1")
    pledges = invoke(shop, "pledge", "export", "v")
    header, row = pledges.stdout.splitlines()
    assert header == (
        "key,variant,customer,quantity,region,state,currency,unit_price,deposit,balance,total"
    )
    assert row == f"o-1,{a},ann,2,,committed,EUR,100.00,20.00,180.00,200.00"
    early = invoke(shop, "presale", "close", "v")
    assert early.exit_code == 2 and "close it now" in early.output and "pass --yes" in early.output
    assert invoke(shop, "presale", "close", "v", "--yes").exit_code == 0


def test_handoff_run_without_configuration_asks_first(shop, tmp_path):
    shop.campaigns.create("h", "mini", stages=["handoff"])
    shop.variants.add("h", {"size": "s", "stand": "feet"})
    shop.campaigns.advance("h")
    result = invoke(shop, "handoff", "run", "h", "--to", f"dir:{tmp_path}")
    assert result.exit_code == 2
    assert "never configured" in result.output and "c2m handoff configure h" in result.output
    assert shop.handoff.status("h").handoffs == ()


def test_aggregation_that_finds_nothing_says_which_moq_would(shop):
    shop.campaigns.create("a", "mini", stages=["wishes", "vote"])
    shop.campaigns.advance("a")
    for i in range(3):
        shop.wishes.submit("a", f"u{i}", {"size": "s", "stand": "feet"})
    result = invoke(shop, "wish", "aggregate", "a", "--moq", "50")
    assert result.exit_code == 0, result.output
    assert "no variant covers the MOQ of 50 units" in result.output
    assert "`c2m wish aggregate a --moq 3` (or lower) finds variants" in result.output
