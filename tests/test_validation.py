"""Validation, rule kind by rule kind, on a small catalog with one rule of each kind."""

import pytest

from c2m_core import C2M, InvalidInput, Violation, hookimpl
from c2m_core.validation import parse_configuration, validate


def rules_of(violations):
    return [v.rule for v in violations]


def test_valid_configuration_has_no_violations(mini_catalog):
    assert validate(mini_catalog, {"size": "s", "stand": "feet"}) == []
    assert validate(mini_catalog, {"size": "l", "stand": "wall", "extra": "fan"}) == []


def test_requires_fires_and_names_the_option(mini_catalog):
    [violation] = validate(mini_catalog, {"size": "l", "stand": "feet"})
    assert violation.rule == "large-on-wall"
    assert violation.kind == "requires"
    assert violation.options == ("size.l",)
    assert "stand.wall" in violation.message


def test_excludes_fires_with_both_options(mini_catalog):
    [violation] = validate(mini_catalog, {"size": "s", "stand": "feet", "extra": "lamp"})
    assert violation.rule == "no-lamp-on-feet"
    assert set(violation.options) == {"extra.lamp", "stand.feet"}


def test_conditional_limit_fires_only_when_its_condition_holds(mini_catalog):
    [violation] = validate(mini_catalog, {"size": "s", "stand": "feet", "extra": "fan"})
    assert violation.rule == "fan-needs-size"
    assert violation.options == ("extra.fan", "size.s")
    assert "at least 60" in violation.message
    assert validate(mini_catalog, {"size": "s", "stand": "feet"}) == []


def test_sum_limit_totals_every_chosen_option(mini_catalog):
    violations = validate(mini_catalog, {"size": "l", "stand": "wall", "extra": "lamp"})
    assert rules_of(violations) == ["power"]
    assert "total watts is 260" in violations[0].message
    assert set(violations[0].options) == {"size.l", "stand.wall", "extra.lamp"}


def test_missing_required_module(mini_catalog):
    violations = validate(mini_catalog, {"size": "s"})
    assert rules_of(violations) == ["required"]
    assert violations[0].options == ("stand",)
    assert "feet, wall" in violations[0].message


def test_unknown_module_and_option_suggest_close_ids(mini_catalog):
    violations = validate(mini_catalog, {"sise": "s", "stand": "wal"}, complete=False)
    assert [(v.rule, v.suggestion) for v in violations] == [
        ("unknown-module", "size"),
        ("unknown-option", "wall"),
    ]
    assert "did you mean 'size'?" in violations[0].message


def test_every_violation_is_reported_not_just_the_first(mini_catalog):
    violations = validate(mini_catalog, {"size": "l", "stand": "feet", "extra": "lamp", "x": "y"})
    assert set(rules_of(violations)) == {
        "unknown-module",
        "large-on-wall",
        "no-lamp-on-feet",
        "power",
    }


def test_partial_configuration_reports_only_what_is_already_certain(mini_catalog):
    # The large size still could get its wall stand, and the power total is not known yet.
    assert validate(mini_catalog, {"size": "l"}, complete=False) == []
    assert rules_of(validate(mini_catalog, {"size": "l", "stand": "feet"}, complete=False)) == [
        "large-on-wall"
    ]
    assert rules_of(validate(mini_catalog, {"size": "s", "extra": "fan"}, complete=False)) == [
        "fan-needs-size"
    ]


def test_custom_rule_from_a_plugin_is_added(tmp_path, mini_catalog, category_plugin):
    class NoFanOnWall:
        @hookimpl
        def validate_configuration(self, category, configuration):
            if configuration.get("extra") == "fan" and configuration.get("stand") == "wall":
                return [
                    Violation(
                        "fan-wall",
                        "a fan shakes a wall stand",
                        ("extra.fan", "stand.wall"),
                        kind="custom",
                    )
                ]
            return []

    app = C2M(
        tmp_path / "x.db",
        plugins=[category_plugin(mini_catalog), NoFanOnWall()],
        load_entry_points=False,
    )
    violations = app.validate("mini", {"size": "l", "stand": "wall", "extra": "fan"})
    assert rules_of(violations) == ["fan-wall"]
    assert app.validate("mini", {"size": "l", "stand": "wall"}) == []


def test_custom_rule_receives_only_known_choices(tmp_path, mini_catalog, category_plugin):
    seen = []

    class Spy:
        @hookimpl
        def validate_configuration(self, configuration, complete):
            seen.append((dict(configuration), complete))

    app = C2M(
        tmp_path / "x.db", plugins=[category_plugin(mini_catalog), Spy()], load_entry_points=False
    )
    app.validate("mini", {"size": "s", "bogus": "x"}, complete=False)
    assert seen == [({"size": "s"}, False)]


def test_parse_configuration():
    assert parse_configuration(["size=65-4k", " base = wall-mount "]) == {
        "size": "65-4k",
        "base": "wall-mount",
    }
    with pytest.raises(InvalidInput, match="is not MODULE=OPTION"):
        parse_configuration(["size"])
    with pytest.raises(InvalidInput, match="given twice"):
        parse_configuration(["size=a", "size=b"])


@pytest.mark.parametrize(
    "configuration, expected",
    [
        (
            {
                "size": "65-oled",
                "appearance": "graphite",
                "functions": "cinema",
                "base": "wall-mount",
            },
            [],
        ),
        (
            {
                "size": "65-oled",
                "backlight": "mini-led",
                "appearance": "graphite",
                "functions": "essential",
                "base": "feet",
            },
            ["oled-no-backlight"],
        ),
        (
            {"size": "55-4k", "appearance": "graphite", "functions": "essential", "base": "feet"},
            ["lcd-needs-backlight"],
        ),
        (
            {
                "size": "85-4k",
                "backlight": "direct-led",
                "appearance": "graphite",
                "functions": "essential",
                "base": "feet",
            },
            ["large-panel-base"],
        ),
        (
            {
                "size": "43-4k",
                "backlight": "direct-led",
                "appearance": "graphite",
                "functions": "gaming",
                "base": "feet",
            },
            ["gaming-size"],
        ),
        (
            {
                "size": "55-4k",
                "backlight": "direct-led",
                "appearance": "graphite",
                "functions": "cinema",
                "base": "feet",
            },
            ["dolby-vision-contrast"],
        ),
        (
            {
                "size": "100-4k",
                "backlight": "mini-led",
                "appearance": "graphite",
                "functions": "flagship",
                "base": "floor-stand",
            },
            ["power-budget"],
        ),
        (
            {
                "size": "77-oled",
                "appearance": "walnut",
                "functions": "essential",
                "base": "centre-stand",
            },
            ["walnut-size", "base-load"],
        ),
    ],
)
def test_tv_rules_a_tv_engineer_would_recognise(tv_app, configuration, expected):
    assert rules_of(tv_app.validate("tv", configuration)) == expected
