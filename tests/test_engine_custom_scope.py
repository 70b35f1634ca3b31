"""Custom rules declared for some categories stay out of the other categories' engines."""

from __future__ import annotations

from c2m_core import C2M, Violation, hookimpl
from c2m_core.engine import applies_to


class Scoped:
    """A custom rule declared for the fridge only: forbids nothing, counts its calls."""

    def __init__(self):
        self.calls = []

    @hookimpl
    @applies_to("fridge")
    def validate_configuration(self, category, configuration):
        self.calls.append(category.name)
        return []


class Everywhere:
    """An undeclared custom rule: asked about every category, as before."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def validate_configuration(self, category, configuration):
        self.calls.append(category.name)
        if category.name == "tv" and configuration.get("base") == "feet":
            return [Violation("no-feet", "no feet today", ("base.feet",), kind="custom")]
        return []


def test_engine_asks_only_the_custom_rules_declared_for_its_category():
    scoped, everywhere = Scoped(), Everywhere()
    app = C2M(db_path=":memory:", plugins=[scoped, everywhere])
    plain = C2M(db_path=":memory:")
    tv = app.engine("tv")
    assert tv.count() < plain.engine("tv").count()
    assert "feet" not in tv.options({}).available("base")
    assert "tv" in everywhere.calls
    assert "tv" not in scoped.calls
    app.engine("fridge").count({})
    assert scoped.calls == ["fridge"] * len(scoped.calls) and scoped.calls
    # validate asks the same implementations as the engines, through the hook
    before = len(scoped.calls)
    assert app.validate("tv", {"base": "feet"}, complete=False)[-1].rule == "no-feet"
    assert len(scoped.calls) == before
    app.validate("fridge", {}, complete=False)
    assert len(scoped.calls) == before + 1


def test_validate_and_the_engine_agree_when_a_declared_rule_misreports():
    """A rule declared for the fridge that reports about any category it is shown: neither
    the TV's engine nor ``validate`` shows it a TV, so their verdicts agree."""

    class Misdeclared:
        @hookimpl
        @applies_to("fridge")
        def validate_configuration(self, category, configuration):
            return [Violation("always", "always wrong", (), kind="custom")]

    app = C2M(db_path=":memory:", plugins=[Misdeclared()])
    configuration = app.engine("tv").sample(1, seed=1)[0]
    assert app.engine("tv").validate(configuration) == []
    assert app.validate("tv", configuration) == []
    assert [v.rule for v in app.validate("fridge", {}, complete=False)] == ["always"]


def test_no_custom_rules_when_every_implementation_is_declared_elsewhere():
    app = C2M(db_path=":memory:", plugins=[Scoped()], load_entry_points=False)
    assert app._custom_rules(_category("tv")) is None
    assert app._custom_rules(_category("fridge")) is not None


def _category(name):
    from c2m_core import Catalog, Category

    catalog = Catalog.from_dict(
        {
            "category": {"id": name, "title": name, "currency": "EUR", "base_price": 0},
            "modules": [{"id": "m", "title": "M", "options": [{"id": "a", "title": "A"}]}],
        }
    )
    return Category(catalog)


def test_bundled_plugins_declare_the_categories_of_their_custom_rules():
    from c2m_core.engine.custom import declared_categories

    app = C2M(db_path=":memory:")
    implementations = app.pm.hook.validate_configuration.get_hookimpls()
    bundled = {
        impl.plugin_name: impl for impl in implementations if impl.plugin_name.startswith("c2m.")
    }
    assert {"c2m.tv", "c2m.fridge", "c2m.toilet_seat"} <= bundled.keys()
    for name, impl in bundled.items():
        registered = {category.name for category in impl.plugin.register_categories()}
        assert declared_categories(impl.function) == registered, name
