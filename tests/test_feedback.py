"""Feedback: routed by default rules, plugin rules and the hook; fed into a next campaign."""

import pytest
from loop_support import run_campaign

from c2m_core import C2M, InvalidInput, hookimpl
from c2m_core.feedback import FeedbackRoute, FeedbackRule
from c2m_core.feedback.defaults import DEFAULT_RULES


@pytest.fixture
def make_app(tmp_path, mini_catalog, category_plugin):
    apps = []

    def make(*plugins):
        app = C2M(tmp_path / "c2m.db", plugins=[category_plugin(mini_catalog), *plugins])
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


@pytest.mark.parametrize(
    "text, tags, department",
    [
        ("The delivery came two weeks late", (), "supply_chain"),
        ("fine", ("logistics",), "supply_chain"),
        ("快递太慢了", (), "supply_chain"),
        ("The box was crushed", (), "design"),
        ("nice", ("packaging",), "design"),
        ("My invoice shows the wrong address", (), "finance"),
        ("ok", ("billing",), "finance"),
        ("It arrived with a dead pixel", (), "production"),
        ("meh", ("defect",), "production"),
        ("I love it", (), "customer_service"),
        ("an xbox works with it", (), "customer_service"),  # "box" is a word, not a substring
    ],
)
def test_each_default_rule_routes_to_its_department(make_app, tmp_path, text, tags, department):
    app = make_app()
    small, _ = run_campaign(app, tmp_path)
    feedback = app.feedback.submit("c", small.id, "erin", text, rating=4, tags=tags)
    assert feedback.department == department
    assert app.feedback.list("c", department) == [feedback]
    assert {r.id for r in DEFAULT_RULES} == {"delivery", "packaging", "invoice", "quality"}


def test_a_plugin_rule_overrides_the_default_and_names_a_module(make_app, tmp_path):
    class Logistics:
        @hookimpl
        def register_feedback_rules(self, category):
            if category.name != "mini":
                return []
            return [
                FeedbackRule("late", "logistics_partner", keywords=("late",)),
                FeedbackRule("wobbly", "design", keywords=("wobbly",), module="stand",
                             option="wall"),
            ]  # fmt: skip

    app = make_app(Logistics())
    small, _ = run_campaign(app, tmp_path)
    late = app.feedback.submit("c", small.id, "erin", "The delivery was late")
    assert (late.department, late.rule) == ("logistics_partner", "late")
    wobbly = app.feedback.submit("c", small.id, "frank", "The stand is wobbly")
    assert (wobbly.module, wobbly.option) == ("stand", "wall")
    assert app.feedback.departments("c") == {"design": 1, "logistics_partner": 1}


def test_classify_feedback_hook_may_route_with_anything(make_app, tmp_path):
    class Model:
        @hookimpl
        def classify_feedback(self, campaign, category, feedback, rules):
            assert rules and all(isinstance(r, FeedbackRule) for r in rules)
            if feedback.rating == 1:
                return FeedbackRoute("escalations", rule="model")
            return None

    app = make_app(Model())
    small, _ = run_campaign(app, tmp_path)
    assert app.feedback.submit("c", small.id, "erin", "late!", rating=1).department == (
        "escalations"
    )
    assert app.feedback.submit("c", small.id, "erin", "late!", rating=3).department == (
        "supply_chain"
    )


def test_feedback_naming_a_module_by_its_title(make_app, tmp_path):
    app = make_app()
    small, _ = run_campaign(app, tmp_path)
    assert app.feedback.submit("c", small.id, "erin", "The Stand is too low").module == "stand"
    assert app.feedback.submit("c", small.id, "erin", "Great value").module is None


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"text": "  "}, "text"),
        ({"rating": 6}, "rating"),
        ({"rating": True}, "rating"),
        ({"tags": ["x" * 41]}, "tags"),
        ({"customer": ""}, "customer"),
        ({"variant_id": 999}, "variant"),
    ],
)
def test_bad_feedback_names_the_field(make_app, tmp_path, kwargs, field):
    app = make_app()
    small, _ = run_campaign(app, tmp_path)
    args = {"variant_id": small.id, "customer": "erin", "text": "ok"} | kwargs
    with pytest.raises(InvalidInput) as error:
        app.feedback.submit("c", **args)
    assert error.value.field == field
    assert app.feedback.list("c") == []


def test_only_handed_off_variants_take_feedback(make_app, tmp_path):
    app = make_app()
    _, large = run_campaign(app, tmp_path)  # large/wall failed to tip: never delivered
    with pytest.raises(InvalidInput, match="handed off"):
        app.feedback.submit("c", large.id, "gina", "never came")


def test_feedback_text_is_data(make_app, tmp_path):
    app = make_app()
    small, _ = run_campaign(app, tmp_path)
    text = "{{ 7*7 }} {% include '/etc/passwd' %} <script>alert(1)</script> ../../etc/passwd"
    stored = app.feedback.submit("c", small.id, "erin", text)
    assert app.feedback.list("c")[0].text == text == stored.text


def test_a_new_campaign_starts_from_the_feedback_that_names_a_module(make_app, tmp_path):
    class Rules:
        @hookimpl
        def register_feedback_rules(self):
            return [FeedbackRule("wobbly", "design", keywords=("wobbly",), module="stand",
                                 option="wall")]  # fmt: skip

    app = make_app(Rules())
    small, _ = run_campaign(app, tmp_path)
    app.feedback.submit("c", small.id, "erin", "The stand is wobbly")
    app.feedback.submit("c", small.id, "frank", "The stand is too low")
    app.feedback.submit("c", small.id, "gina", "Lovely")  # names no module: not seeded
    campaign, report = app.feedback.start_next("c", "c2")
    assert campaign.state == "wishes" and campaign.category == "mini"
    assert report.imported == 2
    wishes = app.store.wishes.after(campaign.id, 0)
    by_customer = {w.customer: w for w in wishes}
    assert dict(by_customer["erin"].configuration) == {"size": "s", "stand": "wall"}
    assert dict(by_customer["frank"].configuration) == {"size": "s"}  # the module left open
    assert by_customer["frank"].note == "The stand is too low"
    again = app.feedback.seed_wishes("c2", "c")
    assert again.imported == 0 and again.duplicates == 2


def test_the_tv_plugin_maps_dim_to_the_backlight(tv_app):
    from c2m_core.feedback import Feedback
    from c2m_core.feedback.defaults import classify_feedback

    category = tv_app.category("tv")
    rules = tv_app.feedback.rules(category)
    assert rules[0].id == "tv-dim"  # the plugin's rules come before the core's
    feedback = Feedback(None, 1, 1, "erin", "Screen too dim at night, delivery was fine")
    route = classify_feedback(category=category, feedback=feedback, rules=rules)
    assert (route.department, route.module, route.option) == ("production", "backlight", "mini-led")
