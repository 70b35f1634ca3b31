"""Each toilet seat rule fires on a configuration that breaks only it, and is met by a close one
that respects it (with its premise still chosen)."""

import c2m_toilet_seat
import pytest
from click.testing import CliRunner

from c2m_core import C2M
from c2m_core.cli import cli

BASIC = {
    "shape": "elongated",
    "base": "standard",
    "power": "standard",
    "water-heating": "tank",
    "nozzle": "single",
    "lid": "manual",
    "control": "side-panel",
}
INSTANT = {**BASIC, "power": "high", "water-heating": "instant-plus"}

# rule id -> (configuration breaking only that rule, configuration respecting it)
CASES = {
    "instant-heating-power": (
        {**BASIC, "water-heating": "instant"},
        {**BASIC, "water-heating": "instant", "power": "high"},
    ),
    "standard-board-load": (  # 600 + 550 + 60 = 1,210 W; 600 + 400 + 60 = 1,060 W
        {**BASIC, "dryer": "fast-dry", "seat-heating": "graphene"},
        {**BASIC, "dryer": "warm-air", "seat-heating": "graphene"},
    ),
    "household-circuit": (  # 1,600 + 400 + 50 = 2,050 W; 1,600 + 400 = 2,000 W, the limit itself
        {**INSTANT, "dryer": "warm-air", "seat-heating": "ceramic"},
        {**INSTANT, "dryer": "warm-air"},
    ),
    "automatic-lid-base": (
        {**BASIC, "lid": "automatic"},
        {**BASIC, "lid": "automatic", "base": "powered"},
    ),
    "uv-closed-lid": (
        {**BASIC, "uv": "uv-c", "base": "powered"},
        {**BASIC, "uv": "uv-c", "base": "powered", "lid": "automatic"},
    ),
    "self-cleaning-nozzle-shape": (
        {**BASIC, "shape": "round", "nozzle": "stainless-self-cleaning"},
        {**BASIC, "shape": "elongated-xl", "nozzle": "stainless-self-cleaning"},
    ),
    "fast-dryer-shape": (
        {**BASIC, "shape": "round", "dryer": "fast-dry"},
        {**BASIC, "shape": "elongated", "dryer": "fast-dry"},
    ),
    "instant-heater-flow": (
        {**INSTANT, "water-heating": "instant", "nozzle": "stainless-self-cleaning"},
        {**INSTANT, "water-heating": "instant", "nozzle": "dual"},
    ),
}


@pytest.fixture(scope="module")
def app():
    return C2M(db_path=":memory:", plugins=[c2m_toilet_seat], load_entry_points=False)


def test_every_rule_has_a_case(app):
    declared = {rule.id for rule in app.category("toilet-seat").catalog.rules}
    assert set(CASES) == declared | {"instant-heater-flow"}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires_and_is_respected(app, rule):
    breaking, respecting = CASES[rule]
    assert [v.rule for v in app.validate("toilet-seat", breaking)] == [rule]
    assert app.validate("toilet-seat", respecting) == []


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_through_the_command_line(rule):
    breaking, respecting = CASES[rule]
    runner = CliRunner()
    result = runner.invoke(cli, ["catalog", "check", "toilet-seat", *_pairs(breaking)])
    assert result.exit_code == 1, result.output
    assert f"  - {rule}: " in result.output
    result = runner.invoke(cli, ["catalog", "check", "toilet-seat", *_pairs(respecting)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("valid: ")


def test_household_circuit_names_the_total(app):
    [violation] = app.validate("toilet-seat", CASES["household-circuit"][0])
    assert "total watts is 2050; allowed: at most 2000" in violation.message
    assert violation.options == (
        "seat-heating.ceramic",
        "water-heating.instant-plus",
        "dryer.warm-air",
    )


@pytest.mark.parametrize(
    "flow, watts",
    [(450, 785), (600, 1047), (800, 1396), (0, 0)],
)
def test_instant_heater_watts_needed(flow, watts):
    # flow [ml/min] x 4.186 J/(g K) x 25 K / 60 s, rounded up
    assert c2m_toilet_seat.instant_heater_watts_needed(flow) == watts


def test_instant_heater_flow_explains_the_numbers(app):
    [violation] = app.validate("toilet-seat", CASES["instant-heater-flow"][0])
    assert violation.kind == "custom"
    assert violation.options == ("water-heating.instant", "nozzle.stainless-self-cleaning")
    assert "800 ml/min, which needs 1396 W" in violation.message
    assert "gives 1150 W" in violation.message


def test_spec_sheet_adds_up_the_power(app):
    from c2m_core.testing import spec_context

    category = app.category("toilet-seat")
    configuration = CASES["household-circuit"][1]
    html = (
        app.jinja_environment(category)
        .get_template("spec_sheet.html")
        .render(spec_context(category, configuration))
    )
    assert "rated input 2000 W" in html
    assert "on a 2000 W power board" in html
    assert "Price: CNY 2,449.00" in html
    assert "<li>HTR-INST-1600 &times; 1</li>" in html


def _pairs(configuration):
    return [f"{module}={option}" for module, option in configuration.items()]
