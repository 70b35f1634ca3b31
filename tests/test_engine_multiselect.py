"""The engine on a catalog with a multi-select module: what a partial choice means, repair
distances, custom rules reading tuples, and the command line answering as the library does.

Brute-force equality on random catalogs is in test_engine_properties.py; these pin the
documented meaning on one small catalog whose answers can be checked by hand."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from engine_reference import extends, pairs, solutions
from test_catalog_multiselect import EXTRAS, RULES

from c2m_core import C2M, InvalidInput, Violation, load_catalog
from c2m_core.cli import make_cli
from c2m_core.engine import Change, Engine
from conftest import _category_plugin


@pytest.fixture
def catalog(write_catalog, mini_text):
    head, rules = mini_text.split("[[rules]]", 1)
    return load_catalog(write_catalog(head + EXTRAS + RULES + "[[rules]]" + rules))


def test_a_partial_choice_of_options_is_extended_by_every_superset(catalog):
    engine = Engine(catalog)
    with_ice = [c for c in solutions(catalog, None) if "ice" in c.get("extras", ())]
    assert engine.count({"extras": ("ice",)}) == len(with_ice) > 0
    assert list(engine.enumerate({"extras": ["ice"]})) == with_ice
    # fewer than min is a partial choice; the value's order does not matter
    assert engine.count({"extras": ("wifi", "ice")}) == engine.count({"extras": ("ice", "wifi")})
    drawn = engine.sample(20, seed=4, partial={"extras": ("ice",)})
    assert drawn and all(extends(c, {"extras": ("ice",)}) and c in with_ice for c in drawn)


def test_options_of_a_multi_select_module_stay_open_after_one_is_chosen(catalog):
    result = Engine(catalog).options({"stand": "wall", "extras": ("ice",)})
    assert result.status("extras", "ice").chosen
    assert result.status("extras", "wifi").available
    uv = result.status("extras", "uv")
    assert not uv.available
    assert uv.reason.rules == ("no-ice-with-uv",)
    assert dict(uv.reason.choices) == {"extras": ("ice",)}
    assert "given extras=ice" in uv.reason.message


def test_the_bound_of_a_module_rules_options_out_without_naming_a_rule(write_catalog, mini_text):
    head, rules = mini_text.split("[[rules]]", 1)
    text = head + EXTRAS.replace("max = 2", "max = 1") + "[[rules]]" + rules
    result = Engine(load_catalog(write_catalog(text))).options({"extras": "wifi"})
    ice = result.status("extras", "ice")
    assert not ice.available and ice.reason.rules == ()
    assert dict(ice.reason.choices) == {"extras": ("wifi",)}
    assert "extras takes 0 to 1 options" in ice.reason.message


def test_conflicts_name_the_options_involved(catalog):
    conflict = Engine(catalog).explain({"size": "s", "stand": "feet", "extras": ("wifi", "uv")})
    assert dict(conflict.choices) == {"stand": "feet", "extras": ("wifi",)}
    assert conflict.rules == ("wifi-needs-wall",)
    assert "stand=feet, extras=wifi cannot be completed together" in conflict.message


@pytest.mark.parametrize(
    "bad, problem",
    [
        ({"extras": ("ice", "wifi", "uv")}, "takes 0 to 2 options, got 3"),
        ({"extras": ("ice", "ice")}, "got an option twice"),
        ({"extras": ("fan",)}, "unknown option 'fan'"),
        ({"stand": ("feet", "wall")}, "takes one option, got 2"),
    ],
)
def test_malformed_choices_are_refused(catalog, bad, problem):
    engine = Engine(catalog)
    for question in (engine.options, engine.count, engine.explain, engine.is_satisfiable):
        with pytest.raises(InvalidInput, match=problem):
            question(bad)


def test_repair_distance_counts_the_wished_options_dropped(catalog):
    engine = Engine(catalog)
    # three extras where two fit, and the UV lamp excludes the ice maker: one option goes
    repair = engine.repair({"size": "s", "stand": "wall", "extras": ("uv", "ice", "wifi")})
    assert repair.configuration == {"size": "s", "stand": "wall", "extras": ("ice", "wifi")}
    assert repair.distance == 1
    assert repair.changes == (Change("extras", ("ice", "wifi", "uv"), ("ice", "wifi")),)
    weighted = engine.repair(
        {"size": "s", "stand": "feet", "extras": ("ice", "wifi")}, weights={"extras": 3}
    )
    assert weighted.distance == 1 and weighted.configuration["extras"] == ("ice", "wifi")
    assert engine.repair({"stand": "feet", "extras": ("wifi",)}, keep=["stand", "extras"]) is None


def test_custom_rules_read_the_options_as_a_tuple(catalog):
    def no_wifi_on_small(configuration, complete):
        if configuration.get("size") == "s" and "wifi" in configuration.get("extras", ()):
            return [Violation("small-wifi", "no Wi-Fi on small sets", (), kind="custom")]
        return []

    engine = Engine(catalog, no_wifi_on_small)
    expected = solutions(catalog, no_wifi_on_small)
    assert engine.count() == len(expected)
    assert list(engine.enumerate()) == expected
    assert not engine.options({"size": "s"}).status("extras", "wifi").available
    assert engine.explain({"size": "s", "extras": ("wifi",)}).rules == ("small-wifi",)
    assert any(pairs(c) >= {("size", "s"), ("extras", "ice")} for c in expected)


@pytest.fixture
def app(catalog, tmp_path):
    with C2M(tmp_path / "c2m.db", plugins=[_category_plugin(catalog)]) as app:
        yield app


def run(app, *args):
    return CliRunner().invoke(make_cli(), ["catalog", *args], obj=app)


def test_the_command_line_answers_as_the_library(app):
    engine = app.engine("mini")
    count = run(app, "count", "mini", "extras=ice,wifi", "--json")
    assert count.exit_code == 0, count.output
    assert json.loads(count.output)["count"] == engine.count({"extras": ("ice", "wifi")})

    options = run(app, "options", "mini", "extras=ice", "--json")
    assert options.exit_code == 0, options.output
    expected = json.loads(json.dumps(engine.options({"extras": "ice"}).to_dict()))
    assert json.loads(options.output) == {"category": "mini", **expected}
    table = run(app, "options", "mini", "extras=ice")
    rows = {tuple(line.split()[:3]) for line in table.output.splitlines()}
    assert {("extras", "ice", "chosen"), ("extras", "wifi", "yes"), ("extras", "uv", "no")} <= rows

    explain = run(app, "explain", "mini", "stand=feet", "extras=wifi,uv")
    assert explain.exit_code == 1
    assert "impossible: stand=feet extras=wifi cannot be completed" in explain.output

    wish = {"size": "s", "stand": "wall", "extras": ("uv", "ice", "wifi")}
    repair = run(app, "repair", "mini", "size=s", "stand=wall", "extras=uv,ice,wifi", "--json")
    assert repair.exit_code == 0, repair.output
    expected = json.loads(json.dumps(engine.repair(wish).to_dict()))
    assert json.loads(repair.output)["repair"] == expected
    table = run(app, "repair", "mini", "size=s", "stand=wall", "extras=uv,ice,wifi")
    assert "1 of the wish's 5 choices changed (distance 1)" in table.output
    # what is added to complete the wish (the wall stand) changes none of its choices
    added = run(app, "repair", "mini", "size=l", "extras=wifi")
    assert "0 of the wish's 2 choices changed (distance 0)" in added.output
    assert any(
        line.split() == ["extras", "ice,wifi,uv", "ice,wifi", "changed"]
        for line in table.output.splitlines()
    )


def test_enumerate_lists_the_same_without_the_counter(catalog, monkeypatch):
    """Past ``EVERY_LIMIT`` configurations enumerate walks with the solver: same list."""
    import c2m_core.engine.engine as engine_module

    expected = solutions(catalog, None, {"stand": "wall"})
    assert list(Engine(catalog).enumerate({"stand": "wall"})) == expected
    monkeypatch.setattr(engine_module, "EVERY_LIMIT", 3)
    assert list(Engine(catalog).enumerate({"stand": "wall"})) == expected
