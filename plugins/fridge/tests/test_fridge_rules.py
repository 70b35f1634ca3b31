"""Each fridge rule fires on a configuration that breaks only it, and is met by a close one that
respects it (with its premise still chosen); the function packs take several options at once."""

import c2m_fridge
import pytest
from click.testing import CliRunner

from c2m_core import C2M
from c2m_core.catalog import choice_ids
from c2m_core.cli import cli

LARGE = {
    "layout": "french-door",
    "capacity": "450l",
    "width": "830mm",
    "compressor": "inverter",
    "cooling": "no-frost",
    "energy": "grade-1",
    "finish": "stainless",
}
SMALL = {
    "layout": "single-door",
    "capacity": "180l",
    "width": "550mm",
    "compressor": "inverter",
    "cooling": "no-frost",
    "energy": "grade-3",
    "finish": "white-steel",
}

# rule id -> (configuration breaking only that rule, configuration respecting it)
CASES = {
    "single-door-width": ({**SMALL, "width": "700mm"}, {**SMALL, "width": "600mm"}),
    "multi-door-width": ({**LARGE, "width": "600mm"}, {**LARGE, "width": "700mm"}),
    "side-by-side-width": (
        {**LARGE, "layout": "side-by-side", "capacity": "520l", "width": "700mm"},
        {**LARGE, "layout": "side-by-side", "capacity": "520l", "width": "830mm"},
    ),
    "single-door-capacity": (
        {**SMALL, "capacity": "350l", "width": "600mm", "energy": "grade-2"},
        {**SMALL, "capacity": "260l", "width": "600mm", "energy": "grade-2"},
    ),
    "double-door-capacity": (
        {**LARGE, "layout": "double-door", "capacity": "520l"},
        {**LARGE, "layout": "double-door", "capacity": "450l"},
    ),
    "multi-door-capacity": (
        {**LARGE, "layout": "cross-door", "capacity": "260l", "energy": "grade-2"},
        {**LARGE, "layout": "cross-door", "capacity": "350l", "energy": "grade-2"},
    ),
    "side-by-side-capacity": (
        {**LARGE, "layout": "side-by-side", "capacity": "450l"},
        {**LARGE, "layout": "side-by-side", "capacity": "520l"},
    ),
    "mid-capacity-width": (
        {
            **LARGE,
            "layout": "double-door",
            "capacity": "350l",
            "width": "550mm",
            "energy": "grade-2",
        },
        {
            **LARGE,
            "layout": "double-door",
            "capacity": "350l",
            "width": "600mm",
            "energy": "grade-2",
        },
    ),
    "large-capacity-width": (
        {**LARGE, "layout": "cross-door", "capacity": "620l", "width": "700mm"},
        {**LARGE, "layout": "cross-door", "capacity": "620l", "width": "830mm"},
    ),
    "grade-1-inverter": (
        {**LARGE, "capacity": "620l", "compressor": "fixed-speed", "cooling": "direct"},
        {**LARGE, "capacity": "620l", "compressor": "inverter", "cooling": "direct"},
    ),
    "ice-maker-water-line": (
        {**LARGE, "dispenser": "ice-maker", "water": "refill-tank"},
        {**LARGE, "dispenser": "ice-maker", "water": "mains-line"},
    ),
    "ice-maker-room": (
        {**LARGE, "layout": "double-door", "dispenser": "ice-water", "water": "mains-line"},
        {**LARGE, "layout": "cross-door", "dispenser": "ice-water", "water": "mains-line"},
    ),
    "ice-maker-no-frost": (
        {**LARGE, "cooling": "direct", "dispenser": "ice-maker", "water": "mains-line"},
        {**LARGE, "cooling": "no-frost", "dispenser": "ice-maker", "water": "mains-line"},
    ),
    "dispenser-water-supply": (
        {**SMALL, "dispenser": "water"},
        {**SMALL, "dispenser": "water", "water": "refill-tank"},
    ),
    "water-supply-dispenser": (
        {**LARGE, "water": "mains-line"},
        {**LARGE, "water": "mains-line", "dispenser": "water"},
    ),
    "touch-panel-glass": (
        {**LARGE, "smart": "touch-panel"},
        {**LARGE, "smart": "touch-panel", "finish": "black-glass"},
    ),
    "touch-panel-width": (
        {
            **LARGE,
            "layout": "double-door",
            "width": "600mm",
            "energy": "grade-2",
            "capacity": "260l",
            "smart": "touch-panel",
            "finish": "champagne-glass",
        },
        {
            **LARGE,
            "layout": "double-door",
            "width": "700mm",
            "energy": "grade-2",
            "capacity": "260l",
            "smart": "touch-panel",
            "finish": "champagne-glass",
        },
    ),
    "functions-control-board": (
        {**SMALL, "functions": ("sterilizer",)},
        {**SMALL, "layout": "double-door", "functions": ("sterilizer",)},
    ),
    "one-drawer-pack": (
        {**LARGE, "functions": ("fresh-zone", "fast-freeze")},
        {**LARGE, "functions": ("fresh-zone", "sterilizer")},
    ),
    "fast-freeze-no-frost": (
        {**LARGE, "cooling": "direct", "functions": ("fast-freeze",)},
        {**LARGE, "functions": ("fast-freeze",)},
    ),
    "door-in-door-layout": (
        {**LARGE, "layout": "double-door", "functions": ("sterilizer", "door-in-door")},
        {**LARGE, "functions": ("fast-freeze", "sterilizer", "door-in-door")},
    ),
    "energy-index": (
        {**SMALL, "compressor": "fixed-speed"},
        {**SMALL, "compressor": "fixed-speed", "cooling": "direct"},
    ),
}


@pytest.fixture(scope="module")
def app():
    return C2M(db_path=":memory:", plugins=[c2m_fridge], load_entry_points=False)


def test_every_rule_has_a_case(app):
    declared = {rule.id for rule in app.category("fridge").catalog.rules}
    assert set(CASES) == declared | {"energy-index"}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires_and_is_respected(app, rule):
    breaking, respecting = CASES[rule]
    assert [v.rule for v in app.validate("fridge", breaking)] == [rule]
    assert app.validate("fridge", respecting) == []


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_through_the_command_line(rule):
    breaking, respecting = CASES[rule]
    runner = CliRunner()
    result = runner.invoke(cli, ["catalog", "check", "fridge", *_pairs(breaking)])
    assert result.exit_code == 1, result.output
    assert f"  - {rule}: " in result.output
    result = runner.invoke(cli, ["catalog", "check", "fridge", *_pairs(respecting)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("valid: ")


def test_energy_index_explains_the_numbers(app):
    [violation] = app.validate("fridge", CASES["energy-index"][0])
    assert violation.kind == "custom"
    assert violation.options == (
        "capacity.180l",
        "compressor.fixed-speed",
        "cooling.no-frost",
        "energy.grade-3",
    )
    assert "at most 60 %" in violation.message and "reaches 65 %" in violation.message


@pytest.mark.parametrize(
    "capacity, compressor, cooling, expected",
    [
        ("180l", "inverter", "no-frost", 50),
        ("180l", "fixed-speed", "no-frost", 65),
        ("180l", "fixed-speed", "direct", 59),  # 58.5 rounds up
        ("620l", "fixed-speed", "direct", 40),  # 39.78
        ("450l", "inverter", "direct", 35),  # 34.2
    ],
)
def test_energy_efficiency_index(app, capacity, compressor, cooling, expected):
    catalog = app.category("fridge").catalog
    assert (
        c2m_fridge.energy_efficiency_index(
            catalog.option("capacity", capacity),
            catalog.option("compressor", compressor),
            catalog.option("cooling", cooling),
        )
        == expected
    )


def test_energy_index_waits_for_its_modules(app):
    partial = {k: v for k, v in CASES["energy-index"][0].items() if k != "energy"}
    assert app.validate("fridge", partial, complete=False) == []


def test_spec_sheet_shows_the_variant(app):
    from c2m_core.testing import spec_context

    category = app.category("fridge")
    configuration = CASES["ice-maker-water-line"][1]
    html = (
        app.jinja_environment(category)
        .get_template("spec_sheet.html")
        .render(spec_context(category, configuration))
    )
    assert "450 L, 830 mm wide" in html
    assert "energy grade 1 (GB 12021.2)" in html
    assert "Installation: Mains water line with filter." in html
    assert "Price: CNY 7,799.00" in html
    assert "<li>ICE-TWIST-01 &times; 1</li>" in html


PACKS = ("fresh-zone", "sterilizer", "door-in-door")


def test_function_packs_add_their_prices_parts_and_lead_times(app):
    from c2m_core.handoff.plan import catalog_parts, lead_time_days
    from c2m_core.presale.pricing import catalog_price

    catalog = app.category("fridge").catalog
    packs = [catalog.option("functions", pack) for pack in PACKS]
    with_packs = {**LARGE, "functions": PACKS}
    assert app.validate("fridge", with_packs) == []
    added = catalog_price(catalog, with_packs).amount - catalog_price(catalog, LARGE).amount
    assert added == sum(pack.price for pack in packs) == 29900 + 15900 + 39900
    numbers = [part.number for part in catalog_parts(catalog, with_packs)]
    assert {"FRS-DRW-0C", "FLT-PCO-01", "FRG-DR-DID"} <= set(numbers)
    assert lead_time_days(catalog, with_packs) == max(
        option.lead_time_days for _, option in catalog.chosen_options(with_packs)
    )


def test_at_most_three_packs(app):
    four = {**LARGE, "functions": ("fresh-zone", "sterilizer", "door-in-door", "fast-freeze")}
    assert "option-count" in {v.rule for v in app.validate("fridge", four)}


def test_the_engine_answers_for_the_packs(app):
    engine = app.engine("fridge")
    single = engine.options({"layout": "single-door"})
    assert single.available("functions") == ()
    assert single.status("functions", "sterilizer").reason.rules == ("functions-control-board",)
    large = engine.options({**LARGE, "functions": ("fresh-zone",)})
    assert large.available("functions") == ("fresh-zone", "sterilizer", "door-in-door")
    conflict = engine.explain({"cooling": "direct", "functions": ("fast-freeze", "sterilizer")})
    assert dict(conflict.choices) == {"cooling": "direct", "functions": ("fast-freeze",)}
    assert conflict.rules == ("fast-freeze-no-frost",)
    # the bar needs another layout: one choice changes, and the earlier module (layout) stays
    repair = engine.repair({**LARGE, "layout": "double-door", "functions": PACKS})
    assert repair.distance == 1 and repair.configuration["layout"] == "double-door"
    assert repair.configuration["functions"] == ("fresh-zone", "sterilizer")
    assert engine.count({**LARGE, "functions": ("fresh-zone", "fast-freeze")}) == 0
    assert 0 < engine.count({**LARGE, "functions": PACKS}) < engine.count(LARGE)


def test_titles_in_chinese_and_english(app):
    catalog = app.category("fridge").catalog
    assert catalog.title_in("zh") == "定制冰箱"
    assert catalog.module("functions").title_in("zh") == "功能包"
    assert catalog.option("functions", "fast-freeze").title_in("en") == "Fast-freeze drawer"
    for module in catalog.modules:
        assert {"en", "zh"} <= module.titles.keys()
        for option in module.options:
            assert {"en", "zh"} <= option.titles.keys(), f"{module.id}.{option.id}"
    result = CliRunner().invoke(cli, ["catalog", "show", "fridge", "--lang", "zh"])
    assert result.exit_code == 0 and "功能包" in result.output


def test_spec_sheet_lists_every_chosen_pack(app):
    from c2m_core.testing import spec_context

    category = app.category("fridge")
    html = (
        app.jinja_environment(category)
        .get_template("spec_sheet.html")
        .render(spec_context(category, {**LARGE, "functions": PACKS}))
    )
    for pack in PACKS:
        assert category.catalog.option("functions", pack).title in html
    assert "<li>FLT-PCO-01 &times; 1</li>" in html


def _pairs(configuration):
    return [f"{module}={','.join(choice_ids(value))}" for module, value in configuration.items()]
