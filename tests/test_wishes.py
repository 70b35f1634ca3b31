"""Wishes: intake, validation, idempotency, hooks, stats and aggregation on the TV catalog."""

import itertools
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from c2m_core import C2M, C2MError, InvalidInput, Violation, hookimpl
from c2m_core.campaigns import IllegalTransition, UnknownCampaign

OLED = {"size": "65-oled", "appearance": "graphite", "functions": "cinema", "base": "feet"}


def open_campaign(app, slug="tv-2026", **settings):
    app.campaigns.create(slug, "tv", settings=settings or None)
    app.campaigns.advance(slug)
    return slug


@pytest.fixture
def app(tmp_path):
    with C2M(db_path=tmp_path / "c2m.db") as app:
        yield app


@pytest.fixture
def slug(app):
    return open_campaign(app)


def test_a_valid_partial_wish_is_stored_with_an_event(app, slug):
    wish = app.wishes.submit(
        slug,
        "u1",
        {"base": "wall-mount", "size": "65-oled"},
        quantity=2,
        region="CN-SD",
        price_ceiling=599900,
        note="<b>quiet</b> please",
    )
    assert wish.valid and wish.violations == () and wish.suggestion is None
    # Stored in catalog order, whatever order it was given in.
    assert list(wish.configuration) == ["size", "base"]
    assert app.wishes.get(slug, wish.id) == wish
    events = app.store.events_since(0, types=("wish.submitted",))
    assert [e.payload for e in events] == [
        {"wish_id": wish.id, "customer": "u1", "external_id": None}
    ]


def test_an_invalid_wish_is_kept_with_violations_and_the_nearest_valid_suggestion(app, slug):
    wish = app.wishes.submit(slug, "u1", {"size": "43-4k", "backlight": "mini-led"})
    assert not wish.valid
    assert [v["rule"] for v in wish.violations] == ["mini-led-size"]
    # One change away, and itself valid.
    assert wish.suggestion == {"size": "43-4k", "backlight": "direct-led"}
    category = app.campaigns.category(app.campaigns.get(slug))
    assert app.validate(category, wish.suggestion, complete=False) == []


def test_a_wish_no_complete_configuration_can_satisfy_is_invalid(app, slug):
    # Direct LED rules out OLED, and Dolby Vision then needs local dimming or mini-LED.
    wish = app.wishes.submit(slug, "u1", {"backlight": "direct-led", "functions": "cinema"})
    assert not wish.valid
    assert wish.violations[0]["rule"] == "unsatisfiable"
    assert set(wish.suggestion) == {"backlight", "functions"}
    assert app.wishes._satisfiable(app.category("tv"), wish.suggestion)


def test_the_same_external_id_returns_the_first_wish(app, slug):
    first = app.wishes.submit(slug, "u1", {"size": "55-4k"}, external_id="order-1")
    again = app.wishes.submit(slug, "u2", {"size": "77-oled"}, quantity=5, external_id="order-1")
    assert again == first
    assert app.wishes.count(slug) == 1
    assert len(app.store.events_since(0, types=("wish.submitted",))) == 1


def test_wishes_are_only_taken_while_the_campaign_collects_them(app):
    app.campaigns.create("draft-one", "tv")
    with pytest.raises(IllegalTransition, match="'draft'.*'wishes'"):
        app.wishes.submit("draft-one", "u1", {"size": "55-4k"})
    app.campaigns.advance("draft-one")
    app.wishes.submit("draft-one", "u1", {"size": "55-4k"}, external_id="x")
    app.campaigns.advance("draft-one")
    with pytest.raises(IllegalTransition, match="'vote'"):
        app.wishes.submit("draft-one", "u1", {"size": "55-4k"})
    with pytest.raises(IllegalTransition):
        app.wishes.aggregate("draft-one")
    # A retry of a stored wish still answers with it.
    assert app.wishes.submit("draft-one", "u1", {}, external_id="x").external_id == "x"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"configuration": {"size": "65-oledd"}},
            r"unknown option '65-oledd'.*did you mean '65-oled'",
        ),
        ({"configuration": {"colour": "red"}}, r"unknown module 'colour'.*Modules are size"),
        ({"quantity": 0}, r"quantity: 0 is not accepted; expected a whole number from 1"),
        ({"quantity": "two"}, r"quantity: 'two'"),
        ({"quantity": True}, r"quantity: True"),
        ({"customer": " "}, r"customer: ' ' is not accepted"),
        ({"price_ceiling": -1}, r"price_ceiling: -1"),
        ({"price_ceiling": 12.5}, r"price_ceiling: 12.5"),
        ({"note": "x" * 1_000_000}, r"note: 1,000,000 characters is too long; at most 10,000"),
        ({"raw": "65寸" * 400_000}, r"raw: 1,200,000 characters is too long"),
        ({"configuration": ["size=65-oled"]}, r"configuration: \['size=65-oled'\]"),
        ({"configuration": {"size": 65}}, r"configuration: \{'size': 65\}"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_nothing_is_stored(app, slug, kwargs, message):
    data = {"customer": "u1", "configuration": {"size": "65-oled"}} | kwargs
    with pytest.raises(InvalidInput, match=message):
        app.wishes.submit(slug, **data)
    assert app.wishes.count(slug) == 0
    assert app.store.events_since(0, types=("wish.submitted",)) == []


def test_unknown_campaign(app):
    with pytest.raises(UnknownCampaign, match="no campaign 'nope'"):
        app.wishes.submit("nope", "u1", {})
    with pytest.raises(UnknownCampaign):
        app.wishes.stats("nope")


def test_the_tv_plugin_reads_free_text_and_explicit_choices_win(app, slug):
    wish = app.wishes.submit(slug, "u1", raw="65寸 OLED")
    assert wish.configuration == {"size": "65-oled"}
    assert wish.raw == "65寸 OLED"
    wish = app.wishes.submit(slug, "u1", {"base": "feet"}, raw="65 inch oled, wall mount")
    assert wish.configuration == {"size": "65-oled", "base": "feet"}
    # Text nobody understands keeps the explicit choices (and the text).
    wish = app.wishes.submit(slug, "u1", {"size": "50-4k"}, raw="something nice")
    assert wish.configuration == {"size": "50-4k"} and wish.raw == "something nice"


def test_normalize_wish_stops_at_the_first_answer_and_wish_submitted_notifies(tmp_path):
    seen = []

    class Shop:
        @hookimpl(tryfirst=True)
        def normalize_wish(self, raw, configuration):
            if raw == "the usual":
                return {"size": "55-4k", "backlight": "direct-led"}
            return None

        @hookimpl
        def wish_submitted(self, app, campaign, wish):
            seen.append((campaign.slug, wish.id, wish.valid))

    with C2M(db_path=tmp_path / "c2m.db", plugins=[Shop()]) as app:
        slug = open_campaign(app)
        wish = app.wishes.submit(slug, "u1", raw="the usual", external_id="a")
        assert wish.configuration == {"size": "55-4k", "backlight": "direct-led"}
        app.wishes.submit(slug, "u1", raw="the usual", external_id="a")
        assert app.wishes.submit(slug, "u2", raw="77寸 oled").configuration == {"size": "77-oled"}
        report = app.wishes.submit_many(
            slug,
            [(1, {"customer": "u3", "external_id": "a"}), (2, {"customer": "u4"})],
        )
        assert (report.imported, report.duplicates) == (1, 1)
        assert seen == [(slug, 1, True), (slug, 2, True), (slug, 3, True)]


def test_stats_count_demand_per_option_and_common_violations(app, slug):
    app.wishes.submit(slug, "u1", OLED, quantity=3)
    app.wishes.submit(slug, "u2", {"size": "65-oled"})
    app.wishes.submit(slug, "u3", {"size": "43-4k", "backlight": "mini-led"}, quantity=2)
    app.wishes.submit(slug, "u4", {"size": "50-4k", "backlight": "mini-led"})
    app.wishes.submit(slug, "u5", {"size": "100-4k", "base": "swivel"})
    stats = app.wishes.stats(slug)
    assert (stats.wishes, stats.quantity) == (5, 8)
    assert (stats.valid_wishes, stats.valid_quantity, stats.complete_wishes) == (2, 4, 1)
    assert stats.valid_share == 0.5
    by_option = {(o["module"], o["option"]): o for o in stats.options}
    assert by_option[("size", "65-oled")] == {
        "module": "size",
        "option": "65-oled",
        "wishes": 2,
        "quantity": 4,
        "share": 1.0,
    }
    assert by_option[("base", "feet")]["quantity"] == 3
    assert by_option[("size", "43-4k")]["quantity"] == 0
    assert [(v["rule"], v["wishes"], v["quantity"]) for v in stats.violations][0] == (
        "mini-led-size",
        2,
        3,
    )
    assert {v["rule"] for v in stats.violations} == {
        "mini-led-size",
        "large-panel-base",
        "swivel-size",
        "base-load",
    }


def test_aggregate_stores_variants_and_replaces_an_earlier_aggregation(app, slug):
    for i in range(6):
        app.wishes.submit(slug, f"a{i}", {"size": "65-4k", "base": "wall-mount"})
    for i in range(3):
        app.wishes.submit(slug, f"b{i}", OLED)
    app.wishes.submit(slug, "c", {"size": "43-4k", "backlight": "mini-led"}, quantity=50)
    manual = app.variants.add(slug, {**OLED, "appearance": "silver"})

    result = app.wishes.aggregate(slug, max_variants=2)
    assert (result.total_quantity, result.covered_quantity, result.invalid_quantity) == (9, 9, 50)
    assert [v.covered for v in result.variants] == [6, 3]
    assert result.variants[1].variant.configuration == OLED
    assert result.share == 1.0 and result.uncovered == ()
    stored = app.variants.list(slug)
    assert [v.source for v in stored] == ["manual", "aggregate", "aggregate"]
    assert [v.covered_quantity for v in stored[1:]] == [6, 3]

    again = app.wishes.aggregate(slug, max_variants=1, moq=4)
    assert [v.covered for v in again.variants] == [6]
    assert again.uncovered == ((OLED, 3),)
    stored = app.variants.list(slug)
    assert [v.id for v in stored] == [manual.id, again.variants[0].variant.id]
    removed = app.store.events_since(0, types=("variant.removed",))
    assert len(removed) == 2
    assert app.store.events_since(0, types=("wishes.aggregated",))[-1].payload["moq"] == 4


def test_aggregate_defaults_to_the_campaign_settings(app):
    slug = open_campaign(app, "set", max_variants=1, moq=2)
    app.wishes.submit(slug, "u1", OLED, quantity=2)
    app.wishes.submit(slug, "u2", {"size": "55-4k", "backlight": "direct-led"})
    result = app.wishes.aggregate(slug)
    assert (result.max_variants, result.moq) == (1, 2)
    assert [v.covered for v in result.variants] == [2]
    with pytest.raises(InvalidInput, match="moq: 0"):
        app.wishes.aggregate(slug, moq=0)


def test_plugin_candidates_are_offered_and_checked(tmp_path):
    proposal = {"size": "65-oled", "appearance": "walnut", "functions": "cinema", "base": "feet"}

    class Designer:
        proposals = [proposal]

        @hookimpl
        def register_variant_candidates(self, app, campaign, category):
            assert category.name == "tv"
            return self.proposals

    designer = Designer()
    with C2M(db_path=tmp_path / "c2m.db", plugins=[designer]) as app:
        slug = open_campaign(app)
        app.wishes.submit(slug, "u1", {"size": "65-oled", "appearance": "walnut"}, quantity=4)
        # No candidate from the catalog or the data: only the designer's.
        app.wishes.exhaustive_limit = 0
        app.wishes.partial_candidates = 0
        result = app.wishes.aggregate(slug)
        assert result.candidates == 1
        assert [v.variant.configuration for v in result.variants] == [proposal]
        designer.proposals = [{"size": "65-oled", "backlight": "mini-led"}]
        with pytest.raises(C2MError, match="not a complete valid configuration"):
            app.wishes.aggregate(slug)


def test_candidates_from_the_data_alone_reach_the_exhaustive_result(app, slug):
    wishes = [
        ({"size": "65-4k"}, 5),
        ({"base": "wall-mount"}, 4),
        ({"functions": "gaming", "size": "75-4k"}, 3),
        ({"appearance": "walnut"}, 2),
        (OLED, 2),
    ]
    for i, (configuration, quantity) in enumerate(wishes):
        app.wishes.submit(slug, f"u{i}", configuration, quantity=quantity)
    exhaustive = app.wishes.aggregate(slug, max_variants=2)
    app.wishes.exhaustive_limit = 0
    from_data = app.wishes.aggregate(slug, max_variants=2)
    assert from_data.candidates < exhaustive.candidates
    assert from_data.covered_quantity == exhaustive.covered_quantity == 14


def tv_engine(app):
    category = app.category("tv")
    return category, app.wishes._engine(category)


def test_the_wish_engine_matches_brute_force(app):
    category, engine = tv_engine(app)
    catalog = category.catalog
    choices = [[*m.option_ids, *([None] if not m.required else [])] for m in catalog.modules]
    valid = []
    for combination in itertools.product(*choices):
        configuration = {
            m: o for m, o in zip(catalog.module_ids, combination, strict=True) if o is not None
        }
        if not app.validate(category, configuration):
            valid.append(configuration)
    enumerated = [frozenset(c.items()) for c in engine.enumerate({})]
    assert len(enumerated) == len(valid)
    assert set(enumerated) == {frozenset(c.items()) for c in valid}
    assert engine.count({}) == len(valid)
    assert engine.count({"size": "65-oled"}) == sum(c["size"] == "65-oled" for c in valid)
    assert list(engine.enumerate({"size": "100-4k", "base": "feet"})) == []
    assert not engine.is_satisfiable({"size": "100-4k", "base": "feet"})


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_suggestions_are_the_nearest_valid_choice(app, data):
    category, engine = tv_engine(app)
    catalog = category.catalog
    wish = {
        m.id: data.draw(st.sampled_from(m.option_ids))
        for m in catalog.modules
        if data.draw(st.booleans())
    }
    repair = engine.repair(wish)
    assert not app.validate(category, repair.configuration)
    distance = sum(repair.configuration.get(m) != o for m, o in wish.items())
    assert distance == repair.distance
    everything = list(engine.enumerate({}))
    nearest = min(sum(c.get(m) != o for m, o in wish.items()) for c in everything)
    assert distance == nearest
    suggestion = app.wishes._suggest(category, wish)
    # An optional module the nearest valid configuration leaves out drops out of the suggestion.
    assert set(suggestion) <= set(wish)
    assert app.validate(category, suggestion, complete=False) == []


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_tv_aggregation_against_the_brute_force_optimum(tmp_path_factory, data):
    with C2M(db_path=tmp_path_factory.mktemp("agg") / "c2m.db") as app:
        slug = open_campaign(app)
        category, engine = tv_engine(app)
        catalog = category.catalog
        submitted = []
        for i in range(data.draw(st.integers(1, 6))):
            base = data.draw(st.sampled_from(list(engine.enumerate({}))))
            kept = {m: o for m, o in base.items() if data.draw(st.booleans())}
            quantity = data.draw(st.integers(1, 9))
            app.wishes.submit(slug, f"u{i}", kept, quantity=quantity)
            submitted.append((kept, quantity))
        k = data.draw(st.integers(1, 3))
        result = app.wishes.aggregate(slug, max_variants=k)
        # The optimum over every valid TV: configurations covering the same wishes are alike.
        patterns = {
            frozenset(
                i for i, (w, _) in enumerate(submitted) if all(c.get(m) == o for m, o in w.items())
            )
            for c in list(engine.enumerate({}))
        }
        best = 0
        for size in range(1, k + 1):
            for combination in itertools.combinations(patterns, size):
                hit = frozenset().union(*combination)
                best = max(best, sum(submitted[i][1] for i in hit))
        assert result.covered_quantity >= (1 - 1 / math.e) * best
        assert result.covered_quantity <= best
        assert result.total_quantity == sum(q for _, q in submitted)
        for chosen in result.variants:
            assert app.validate(category, chosen.variant.configuration) == []
        assert catalog.id == "tv"


def test_aggregating_no_valid_wish_chooses_nothing(app, slug):
    app.wishes.submit(slug, "u1", {"size": "43-4k", "backlight": "mini-led"})
    result = app.wishes.aggregate(slug)
    assert (result.variants, result.total_quantity, result.share) == ((), 0, 0.0)
    assert result.invalid_quantity == 1


def test_an_import_stops_when_the_campaign_moves_on(app, slug):
    def rows():
        for line in range(1, 8):
            if line == 5:
                app.campaigns.advance(slug)
            yield line, {"customer": f"u{line}", "configuration": {"size": "55-4k"}}

    with pytest.raises(IllegalTransition, match="'vote'"):
        app.wishes.submit_many(slug, rows(), batch_size=2)
    assert app.wishes.count(slug) == 4


class _NoWalnutFeet:
    """A plugin's custom rule (undeclared: asked about every category)."""

    @hookimpl
    def validate_configuration(self, category, configuration):
        if configuration.get("appearance") == "walnut" and configuration.get("base") == "feet":
            return [Violation("no-walnut-feet", "walnut on feet", ("base.feet",), kind="custom")]
        return []


def test_every_tv_wish_is_judged_as_validate_and_the_engine_judge_it(tmp_path):
    """Each partial TV wish (every one there is) is stored with the violations ``C2M.validate``
    reports (plugins' rules included), or as unsatisfiable when the rules allow its choices
    but no complete configuration has them all; valid exactly when neither; with the engine's
    nearest valid choice when invalid. (The import judges its first ``table_after`` distinct
    wishes with the solver, the others with the catalog's table of valid configurations.)"""
    with C2M(db_path=tmp_path / "c2m.db", plugins=[_NoWalnutFeet()]) as app:
        slug = open_campaign(app)
        category, engine = tv_engine(app)
        catalog = category.catalog
        choices = [[None, *m.option_ids] for m in catalog.modules]
        wishes = [
            {m: o for m, o in zip(catalog.module_ids, combination, strict=True) if o is not None}
            for combination in itertools.product(*choices)
        ]
        items = [(n, {"customer": f"u{n}", "configuration": w}) for n, w in enumerate(wishes, 1)]
        report = app.wishes.submit_many(slug, items)
        assert report.imported == len(wishes) and not report.rejected
        stored = app.store.wishes.after(app.campaigns.get(slug).id, 0)
        assert any(v["rule"] == "no-walnut-feet" for w in stored for v in w.violations)
        for wish, configuration in zip(stored, wishes, strict=True):
            expected = [
                {**v.to_dict(), "options": list(v.options)}
                for v in app.validate(category, configuration, False)
            ]
            if not expected and not engine.is_satisfiable(configuration):
                expected = [{"rule": "unsatisfiable", "kind": "engine"}]
                got = [{"rule": v["rule"], "kind": v["kind"]} for v in wish.violations]
            else:
                got = list(wish.violations)
            assert got == expected
            assert wish.valid == (not expected)
            suggestion = None if wish.valid else app.wishes._suggest(category, configuration)
            assert wish.suggestion == suggestion
