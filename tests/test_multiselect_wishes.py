"""Wishes, demand and variants agree on one form of a multi-select module's value."""

from hypothesis import given
from hypothesis import strategies as st

from c2m_core import C2M
from c2m_core.errors import InvalidInput
from c2m_core.variants.records import variant_key

BASE = {
    "layout": "french-door",
    "capacity": "450l",
    "width": "830mm",
    "compressor": "inverter",
    "cooling": "no-frost",
    "energy": "grade-1",
    "finish": "stainless",
    "dispenser": "water",
    "water": "refill-tank",
    "smart": "wifi",
}
PACKS = ("fresh-zone", "fast-freeze", "sterilizer", "door-in-door")


def fridge_campaign(tmp_path) -> C2M:
    app = C2M(str(tmp_path / "c2m.db"))
    app.campaigns.create(slug="f", category="fridge", title="Fridge")
    app.campaigns.advance("f")
    return app


def test_one_choice_of_packs_is_one_demand_however_it_is_written(tmp_path):
    app = fridge_campaign(tmp_path)
    written = ["sterilizer", ["sterilizer"], ("sterilizer",)]
    written += [("fast-freeze", "sterilizer"), ["sterilizer", "fast-freeze"]]
    ids = []
    for n, packs in enumerate(written):
        wish = app.wishes.submit("f", f"c{n}", dict(BASE, functions=packs))
        assert wish.valid, wish.violations
        ids.append(wish.id)
    stored = {app.wishes.get("f", i).configuration["functions"] for i in ids}
    assert stored == {("sterilizer",), ("fast-freeze", "sterilizer")}

    result = app.wishes.aggregate("f", 2, 1)
    assert result.covered_quantity == result.total_quantity == 5
    chosen = {v.variant.configuration["functions"]: v.covered for v in result.variants}
    assert chosen == {("sterilizer",): 3, ("fast-freeze", "sterilizer"): 2}


def test_a_list_for_a_single_select_module_is_refused_clearly(tmp_path):
    app = fridge_campaign(tmp_path)
    try:
        app.wishes.submit("f", "c", dict(BASE, layout=["french-door"]))
    except InvalidInput as error:
        assert error.field == "configuration"
        assert "multi-select" in str(error)
    else:
        raise AssertionError("a list for a single-select module was accepted")


@given(st.lists(st.sampled_from(PACKS), unique=True, max_size=3), st.randoms())
def test_variant_key_does_not_depend_on_the_order_packs_are_given(packs, rnd):
    app = C2M(":memory:")
    catalog = app.category("fridge").catalog
    shuffled = list(packs)
    rnd.shuffle(shuffled)
    in_catalog_order = tuple(p for p in PACKS if p in packs)
    key = variant_key(catalog, dict(BASE, functions=shuffled))
    assert key == variant_key(catalog, dict(BASE, functions=in_catalog_order))
    assert key.endswith(f"functions={','.join(in_catalog_order)}")
