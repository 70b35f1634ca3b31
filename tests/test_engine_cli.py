"""``c2m catalog options|count|explain|repair`` through click's runner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from c2m_core import C2M
from c2m_core.cli import make_cli

WISH = ["size=100-4k", "backlight=mini-led", "appearance=walnut", "functions=gaming", "base=swivel"]


@pytest.fixture(scope="module")
def app():
    return C2M(db_path=":memory:")


def run(app, *args):
    return CliRunner().invoke(make_cli(), ["catalog", *args], obj=app)


def test_options_table_and_json(app):
    result = run(app, "options", "tv", "size=100-4k")
    assert result.exit_code == 0, result.output
    lines = {tuple(line.split()[:3]) for line in result.output.splitlines()}
    assert ("base", "wall-mount", "yes") in lines
    assert ("base", "feet", "no") in lines
    assert "large-panel-base (given size=100-4k)" in result.output
    data = json.loads(run(app, "options", "tv", "size=55-oled", "--json").output)
    assert data["modules"]["backlight"]["available"] == []
    assert data["satisfiable"] is True


def test_options_of_an_impossible_choice_exit_1(app):
    result = run(app, "options", "tv", "size=55-oled", "backlight=mini-led")
    assert result.exit_code == 1
    assert "impossible" in result.output


def test_count(app):
    assert run(app, "count", "tv").output.strip() == "1676"
    assert run(app, "count", "tv", "size=55-oled").output.strip() == "150"
    assert json.loads(run(app, "count", "tv", "--json").output)["count"] == 1676
    too_open = run(app, "count", "tv", "--max-states", "2")
    assert too_open.exit_code == 1
    assert "more than 2 memo states" in too_open.output


def test_explain(app):
    result = run(app, "explain", "tv", "size=55-oled", "backlight=mini-led", "base=swivel")
    assert result.exit_code == 1
    assert "impossible: size=55-oled backlight=mini-led" in result.output
    assert "oled-no-backlight" in result.output
    possible = run(app, "explain", "tv", "size=55-oled")
    assert possible.exit_code == 0
    assert possible.output.startswith("possible")


def test_repair_table_json_and_keep(app):
    result = run(app, "repair", "tv", *WISH)
    assert result.exit_code == 0, result.output
    assert ("size", "100-4k", "65-4k", "changed") in {
        tuple(line.split()) for line in result.output.splitlines()
    }
    data = json.loads(run(app, "repair", "tv", *WISH, "--keep", "size", "--json").output)
    assert data["repair"]["configuration"]["base"] == "wall-mount"
    assert data["repair"]["distance"] == 2
    weighted = json.loads(run(app, "repair", "tv", *WISH, "--weight", "size=3", "--json").output)
    assert weighted["repair"]["configuration"]["size"] == "100-4k"
    stuck = run(
        app, "repair", "tv", "size=100-4k", "base=swivel", "--keep", "size", "--keep", "base"
    )
    assert stuck.exit_code == 1
    assert "impossible" in stuck.output


@pytest.mark.parametrize(
    "args",
    [
        ["options", "tv", "siz=100-4k"],
        ["count", "tv", "size=100"],
        ["explain", "tv"],
        ["repair", "tv", "size=100-4k", "--keep", "base"],
        ["repair", "tv", "size=100-4k", "--weight", "size=heavy"],
        ["options", "radio"],
        ["count", "tv", "size"],
    ],
)
def test_bad_input_exits_2(app, args):
    result = run(app, *args)
    assert result.exit_code == 2, result.output


@pytest.mark.parametrize("choices", [[], ["size=55-oled"], ["size=100-4k", "base=wall-mount"]])
def test_cli_answers_what_the_library_answers(app, choices):
    engine = app.engine("tv")
    partial = dict(choice.split("=") for choice in choices)
    counted = json.loads(run(app, "count", "tv", *choices, "--json").output)
    assert counted["count"] == engine.count(partial)
    options = json.loads(run(app, "options", "tv", *choices, "--json").output)
    assert options == {"category": "tv", **engine.options(partial).to_dict()}
