"""The engine on the TV catalog: answers checked by hand (and its count by brute force)."""

from __future__ import annotations

import itertools

import pytest

from c2m_core import C2M, InvalidInput
from c2m_core.engine import Change, Engine, TooManyStates

WISH = {
    "size": "100-4k",
    "backlight": "mini-led",
    "appearance": "walnut",
    "functions": "gaming",
    "base": "swivel",
}


@pytest.fixture(scope="module")
def app():
    return C2M(db_path=":memory:")


@pytest.fixture(scope="module")
def engine(app):
    return app.engine("tv")


def test_app_engine_is_compiled_once_and_wires_custom_rules(app, engine):
    assert app.engine("tv") is engine
    assert app.engine(app.category("tv")) is engine
    assert engine.custom is not None
    assert engine.options({}).used_custom_check


def test_largest_panel_leaves_only_wall_mount_or_floor_stand(engine):
    result = engine.options({"size": "100-4k"})
    assert result.available("base") == ("wall-mount", "floor-stand")
    for option in ("centre-stand", "feet", "swivel"):
        reason = result.status("base", option).reason
        assert reason.rules == ("large-panel-base",)
        assert dict(reason.choices) == {"size": "100-4k"}
    assert result.status("appearance", "walnut").reason.rules == ("walnut-size",)
    assert result.available("size") == ("100-4k",)
    assert result.status("size", "100-4k").chosen


def test_oled_leaves_no_backlight(engine):
    result = engine.options({"size": "55-oled"})
    assert result.satisfiable
    assert result.available("backlight") == ()
    for status in result.of("backlight"):
        assert status.reason.rules == ("oled-no-backlight",)
    assert all("backlight" not in c for c in engine.enumerate({"size": "55-oled"}))


def test_heavy_oled_cannot_stand_on_the_centre_pedestal_custom_rule(engine):
    result = engine.options({"size": "77-oled"})
    reason = result.status("base", "centre-stand").reason
    assert reason.rules == ("base-load",)
    assert dict(reason.choices) == {"size": "77-oled"}
    assert result.available("base") == ("feet", "wall-mount", "floor-stand")


def test_power_budget_rules_out_flagship_on_the_biggest_mini_led(engine):
    result = engine.options({"size": "100-4k", "backlight": "mini-led"})
    assert "flagship" not in result.available("functions")
    assert "cinema" in result.available("functions")
    reason = result.status("functions", "flagship").reason
    assert reason.rules == ("power-budget",)
    assert dict(reason.choices) == {"size": "100-4k", "backlight": "mini-led"}


def test_counts_by_hand_and_by_brute_force(app, engine):
    # 55" OLED: no backlight, every frame, every function pack, every base: 5 * 6 * 5.
    assert engine.count({"size": "55-oled"}) == 150
    # 77" OLED: no walnut (4 frames), 6 packs, no swivel and no centre stand (base-load): 3.
    assert engine.count({"size": "77-oled"}) == 4 * 6 * 3
    catalog = app.category("tv").catalog
    domains = [([None] if not m.required else []) + list(m.option_ids) for m in catalog.modules]
    valid = 0
    for combo in itertools.product(*domains):
        configuration = {m.id: o for m, o in zip(catalog.modules, combo, strict=True) if o}
        valid += not app.validate("tv", configuration)
    assert engine.count() == valid == 1676


def test_count_gives_up_past_its_state_budget(engine):
    with pytest.raises(TooManyStates, match="more than 3 memo states"):
        engine.count(max_states=3)
    assert engine.count(max_states=10_000) == 1676


def test_declarative_rules_alone_count_more(app, engine):
    without_custom = Engine(app.category("tv").catalog)
    assert not without_custom.options({}).used_custom_check
    assert without_custom.count({"size": "77-oled"}) == 4 * 6 * 4
    assert without_custom.count() > engine.count()


def test_explain_names_a_minimal_conflict(engine):
    conflict = engine.explain({"size": "55-oled", "backlight": "mini-led", "base": "swivel"})
    assert dict(conflict.choices) == {"size": "55-oled", "backlight": "mini-led"}
    assert conflict.rules == ("oled-no-backlight",)
    assert "oled-no-backlight" in conflict.message
    assert engine.explain({"size": "43-4k", "backlight": "mini-led"}).rules == ("mini-led-size",)
    assert engine.explain({"size": "55-oled", "base": "swivel"}) is None


def test_repair_of_an_impossible_wish_changes_the_panel_only(engine):
    repair = engine.repair(WISH)
    assert repair.distance == 1
    assert repair.changes == (Change("size", "100-4k", "65-4k"),)
    assert repair.configuration == {**WISH, "size": "65-4k"}
    assert not engine.validate(repair.configuration)


def test_repair_keeping_the_panel_changes_frame_and_base(engine):
    expected = {**WISH, "appearance": "graphite", "base": "wall-mount"}
    repair = engine.repair(WISH, keep=["size"])
    assert repair.configuration == expected
    assert repair.distance == 2
    assert engine.repair(WISH, weights={"size": 3}).configuration == expected
    assert engine.repair(WISH, weights={"size": 3}).distance == 2


def test_repair_completes_a_partial_wish(engine):
    repair = engine.repair({"size": "85-4k"})
    assert repair.distance == 0
    assert repair.configuration["base"] == "wall-mount"
    assert all(change.old is None for change in repair.changes)
    assert not engine.validate(repair.configuration)


def test_enumerate_and_sample(app, engine):
    first = list(engine.enumerate(limit=3))
    assert first[0] == {
        "size": "43-4k",
        "backlight": "direct-led",
        "appearance": "graphite",
        "functions": "essential",
        "base": "centre-stand",
    }
    assert [c["base"] for c in first] == ["centre-stand", "feet", "swivel"]
    drawn = engine.sample(20, seed=7)
    assert drawn == app.engine("tv").sample(20, seed=7)
    assert drawn != engine.sample(20, seed=8)
    assert all(not app.validate("tv", c) for c in drawn)


def test_fast_validate_matches_app_validate(app, engine):
    for configuration in (WISH, {"size": "77-oled", "base": "centre-stand"}, {"siz": "x"}):
        for complete in (True, False):
            assert engine.validate(configuration, complete) == app.validate(
                "tv", configuration, complete
            )


@pytest.mark.parametrize(
    "call",
    [
        lambda e: e.options({"size": "120-8k"}),
        lambda e: e.count({"sise": "55-4k"}),
        lambda e: e.explain({"base": "tripod"}),
        lambda e: e.repair(WISH, keep=["nothing"]),
        lambda e: e.repair(WISH, weights={"size": 0}),
        lambda e: e.repair(WISH, weights={"colour": 2}),
        lambda e: list(e.enumerate(limit=-1)),
        lambda e: e.sample(-1, seed=1),
    ],
)
def test_bad_input_is_rejected_with_the_accepted_values(engine, call):
    with pytest.raises(InvalidInput) as info:
        call(engine)
    assert str(info.value)


def test_unknown_option_error_lists_the_options(engine):
    with pytest.raises(InvalidInput, match="Options are 43-4k, 50-4k"):
        engine.options({"size": "120-8k"})


def test_results_are_json_ready(engine):
    import json

    for result in (
        engine.options({"size": "100-4k"}),
        engine.explain({"size": "55-oled", "backlight": "mini-led"}),
        engine.repair(WISH),
    ):
        assert json.loads(json.dumps(result.to_dict())) == result.to_dict()


def test_solver_is_rebuilt_after_many_repairs_with_the_same_answers(app, monkeypatch):
    import c2m_core.engine.engine as engine_module

    monkeypatch.setattr(engine_module, "SESSION_GROWTH", 5)
    engine = Engine(app.category("tv").catalog, app.engine("tv").custom)
    first = engine.repair(WISH, weights={"size": 2})
    session = engine._repair_session()
    for _ in range(3):
        assert engine.repair(WISH, weights={"size": 2}) == first
    assert engine._repair_session() is not session
    assert engine.count() == 1676
