"""A wish may state its own tolerance (``length=250~0``, ``300~60``): intake keeps it, size
aggregation honours it, and rewards count the authors of the wishes a standard size serves."""

from __future__ import annotations

import pytest
from test_catalog_numeric import SOFA

from c2m_core import C2M
from c2m_core.catalog import load_catalog
from c2m_core.errors import InvalidInput

LIVING = {"template": "classic", "room": "living-room", "fabric": "linen", "legs": "oak"}
WISHES = [
    ("a", {**LIVING, "length": "240", "depth": "90"}, 30),  # the catalog's: 210 to 240
    ("b", {**LIVING, "length": "250~0", "depth": "90"}, 20),  # its own: 250 only
    ("c", {**LIVING, "length": "290~60", "depth": "90", "frame": "reinforced"}, 15),
]


def test_a_stated_tolerance_overrides_the_catalogs_in_the_catalogs_direction():
    number = load_catalog(SOFA).module("length").number
    assert number.wished("240") == (240, 210, 240)
    assert number.wished("250~0") == (250, 250, 250)
    assert number.wished("290~60") == (290, 230, 290)
    with pytest.raises(ValueError):
        number.wished("250~x")


def test_intake_keeps_the_tolerance_and_judges_the_value():
    with C2M(db_path=":memory:") as app:
        app.campaigns.create("sofas", "sofa")
        app.campaigns.advance("sofas")
        wish = app.wishes.submit("sofas", "u1", {"length": "250~0"})
        assert wish.valid and dict(wish.configuration) == {"length": "250~0"}
        bad = app.wishes.submit("sofas", "u2", {"length": "290~10", "frame": "standard"})
        assert not bad.valid and bad.violations[0]["rule"] == "long-frame"
        with pytest.raises(InvalidInput) as caught:
            app.wishes.submit("sofas", "u3", {"length": "250~x"})
        assert caught.value.field == "length" and caught.value.value == "250~x"
        with pytest.raises(InvalidInput, match="245 is not on a step"):
            app.wishes.submit("sofas", "u4", {"length": "245~10"})
        stats = app.wishes.stats("sofas")
        counted = {(o["module"], o["option"]): o["quantity"] for o in stats.options}
        assert counted[("length", "250")] == 1


def test_aggregation_honours_each_wishs_own_tolerance_and_rewards_follow():
    with C2M(db_path=":memory:") as app:
        app.campaigns.create("sofas", "sofa")
        app.campaigns.advance("sofas")
        for customer, configuration, quantity in WISHES:
            app.wishes.submit("sofas", customer, configuration, quantity=quantity)
        result = app.wishes.aggregate("sofas", max_variants=1, moq=10)
        [length, _] = result.sizes
        # 240 serves a (30) and c (15: 290 accepts 230 to 290); 250 would serve b and c (35)
        assert length.sizes == (240,) and length.batches == (45,)
        assert ({**LIVING, "length": "250~0", "depth": "90"}, 20) in [
            (dict(c), q) for c, q in result.uncovered
        ]
        [chosen] = result.variants
        assert chosen.variant.configuration["length"] == "240"
        assert chosen.covered == 45
        assert app.rewards.authors("sofas", chosen.variant.id) == {"a": 30, "c": 15}
        catalog = load_catalog(SOFA)
        assert catalog.accepts({"length": "290~60"}, {"length": "240"})
        assert not catalog.accepts({"length": "250~0"}, {"length": "240"})
        assert not catalog.accepts({"length": "240"}, {"length": "250"})
