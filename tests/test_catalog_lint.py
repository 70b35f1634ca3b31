"""``c2m catalog lint FILE``: the JSON Schema, the loader and the engine, before packaging."""

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from c2m_core.catalog_lint import catalog_schema, lint_catalog, lint_data
from c2m_core.cli import make_cli

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted(ROOT.glob("plugins/*/c2m_*/catalog.toml"))


def test_the_schema_is_valid_and_the_docs_copy_is_the_shipped_one():
    Draft202012Validator.check_schema(catalog_schema())
    assert json.loads((ROOT / "docs/catalog.schema.json").read_text()) == catalog_schema()


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.parent.name)
def test_bundled_catalogs_lint_clean(path):
    assert lint_catalog(path) == []


def test_schema_and_loader_agree_on_a_valid_multi_select_catalog(write_catalog, mini_text):
    text = mini_text.replace(
        'title = "Extra"\nrequired = false', 'title = "Extra"\nmin = 0\nmax = 2'
    )
    assert lint_catalog(write_catalog(text)) == []
    # the engine checks it too: under 100 W the lamp (60 W) fits no configuration
    tight = lint_catalog(write_catalog(text.replace("max = 250", "max = 100")))
    lamp = [p for p in tight if p.where == "modules.extra.options[0]"]
    assert lamp[0].level == "warning" and "'lamp' is in no valid configuration" in lamp[0].message


def _tv():
    return tomllib.loads((ROOT / "plugins/tv/c2m_tv/catalog.toml").read_text())


def test_schema_problems_are_all_reported_with_their_place():
    data = _tv()
    data["modules"][0]["options"][1]["price"] = -3
    data["modules"][1]["colour"] = "red"
    data["rules"][0]["kind"] = "requiress"
    data["modules"][2]["min"] = 1
    found = {(p.check, p.where) for p in lint_data(data)}
    assert {
        ("schema", "modules[0].options[1].price"),
        ("schema", "modules[1]"),
        ("schema", "modules[2]"),
        ("schema", "rules[0].kind"),
        ("loader", "modules.size.options[1].price"),
    } <= found


def test_the_loader_catches_what_the_schema_cannot():
    data = _tv()
    data["rules"][0]["then"] = ["backlite"]
    (problem,) = lint_data(data)
    assert problem.check == "loader" and problem.where == "rules[0].then[0]"
    assert "unknown module 'backlite'" in problem.message


def test_the_engine_warns_of_dead_options_and_refuses_an_empty_catalog(write_catalog, mini_text):
    dead = mini_text + '\n[[rules]]\nid = "no-l"\nkind = "excludes"\nmessage = "no"\n'
    dead += 'options = ["size.l", "size"]\n'
    warnings = lint_catalog(write_catalog(dead))
    assert {(p.level, p.where) for p in warnings} == {
        ("warning", "modules.size.options[1]"),  # l is excluded outright
        ("warning", "modules.extra.options[1]"),  # so the fan (it needs 60 inches) is dead too
    }
    empty = dead.replace('options = ["size.l", "size"]', 'options = ["size", "stand"]')
    (error,) = lint_catalog(write_catalog(empty, "empty.toml"))
    assert error.level == "error" and "no configuration is valid" in error.message


def test_cli_lint_exit_codes_and_json(write_catalog, mini_text, tmp_path):
    run = CliRunner().invoke
    good = run(make_cli(), ["catalog", "lint", str(write_catalog())])
    assert good.exit_code == 0 and "ok" in good.output
    bad = write_catalog(mini_text.replace("price = 5000", "price = -1"), "bad.toml")
    result = run(make_cli(), ["catalog", "lint", str(bad)])
    assert result.exit_code == 1
    assert "modules[0].options[1].price" in result.output and "Traceback" not in result.output
    data = json.loads(run(make_cli(), ["catalog", "lint", str(bad), "--json"]).output)
    assert data["ok"] is False and {p["check"] for p in data["problems"]} == {"schema", "loader"}
    broken = tmp_path / "broken.toml"
    broken.write_text("[category\n")
    result = run(make_cli(), ["catalog", "lint", str(broken)])
    assert result.exit_code == 1 and "not valid TOML" in result.output
    missing = run(make_cli(), ["catalog", "lint", str(tmp_path / "nope.toml")])
    assert missing.exit_code == 2
