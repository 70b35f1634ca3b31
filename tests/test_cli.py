"""The command line: tables for people, --json for scripts, exit codes 0 / 1 / 2."""

import json

import pytest
from click.testing import CliRunner

from c2m_core import C2M, __version__
from c2m_core.cli import make_cli

VALID = ["size=65-oled", "appearance=graphite", "functions=cinema", "base=wall-mount"]


@pytest.fixture
def run(tmp_path):
    def run(*args):
        app = C2M(tmp_path / "c2m.db")
        return CliRunner().invoke(make_cli(), list(args), obj=app)

    return run


def test_version(run):
    result = run("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_plugins_json_lists_tv_with_hooks(run):
    result = run("plugins", "--json")
    assert result.exit_code == 0
    tv = next(p for p in json.loads(result.output) if p["name"] == "c2m.tv")
    assert tv["name"] == "c2m.tv" and tv["version"] == "1.0.0" and tv["categories"] == ["tv"]
    assert "register_categories" in tv["hooks"] and "validate_configuration" in tv["hooks"]


def test_plugins_all_includes_core_defaults(run):
    names = [p["name"] for p in json.loads(run("plugins", "--json", "--all").output)]
    assert "c2m_core.templating" in names


def test_catalog_list_table_and_json(run):
    assert "Modular smart TV" in run("catalog", "list").output
    rows = json.loads(run("catalog", "list", "--json").output)
    assert [r["category"] for r in rows] == ["fridge", "sofa", "toilet-seat", "tv"]
    row = rows[-1]
    assert row["category"] == "tv" and row["modules"] == 5 and row["currency"] == "CNY"


def test_catalog_show_is_readable(run):
    result = run("catalog", "show", "tv")
    assert result.exit_code == 0
    assert "size: Size and panel (required)" in result.output
    assert "backlight: Backlight (optional)" in result.output
    assert "+1,800.00" in result.output  # mini-LED price delta
    assert "large-panel-base" in result.output and "sum of watts <= 450" in result.output


def test_catalog_show_json_round_trips(run, tv_app):
    data = json.loads(run("catalog", "show", "tv", "--json").output)
    assert data == tv_app.category("tv").catalog.to_dict()


def test_catalog_check_valid_exits_0(run):
    result = run("catalog", "check", "tv", *VALID)
    assert result.exit_code == 0
    assert result.output.startswith("valid")


def test_catalog_check_invalid_exits_1_with_explanations(run):
    result = run(
        "catalog",
        "check",
        "tv",
        "size=100-4k",
        "backlight=mini-led",
        "appearance=walnut",
        "functions=flagship",
        "base=swivel",
    )
    assert result.exit_code == 1
    for rule in ("large-panel-base", "swivel-size", "walnut-size", "power-budget", "base-load"):
        assert rule in result.output


def test_catalog_check_json(run):
    result = run("catalog", "check", "tv", "size=43-4k", "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["valid"] is False
    assert {v["rule"] for v in data["violations"]} == {"required", "lcd-needs-backlight"}


def test_catalog_check_partial(run):
    assert run("catalog", "check", "tv", "size=85-4k", "--partial").exit_code == 0
    assert run("catalog", "check", "tv", "size=85-4k", "base=feet", "--partial").exit_code == 1


def test_unknown_category_is_a_usage_error(run):
    result = run("catalog", "check", "radio", "a=b")
    assert result.exit_code == 2
    assert "Unknown category 'radio'; available: fridge, sofa, toilet-seat, tv" in result.output
    assert "Traceback" not in result.output


def test_malformed_pair_is_a_usage_error(run):
    result = run("catalog", "check", "tv", "size")
    assert result.exit_code == 2 and "is not MODULE=OPTION" in result.output


def test_unknown_option_gets_a_suggestion(run):
    result = run("catalog", "check", "tv", "size=65-oeld", "--partial")
    assert result.exit_code == 1 and "did you mean '65-oled'?" in result.output


def test_db_option_and_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        make_cli(), ["--db", "x/here.db", "campaign", "create", "a", "--category", "tv"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "x" / "here.db").exists()
    monkeypatch.setenv("C2M_DB", str(tmp_path / "env.db"))
    result = CliRunner().invoke(make_cli(), ["campaign", "list", "--json"])
    assert result.exit_code == 2 and f"database {tmp_path / 'env.db'} does not exist" in (
        result.output
    )
    assert not (tmp_path / "env.db").exists()  # a command that reads creates nothing
    CliRunner().invoke(make_cli(), ["campaign", "create", "a", "--category", "tv"])
    result = CliRunner().invoke(make_cli(), ["campaign", "list", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)[0]["slug"] == "a"
