"""Multi-select modules: a module takes ``min``..``max`` of its options; a configuration maps it
to a tuple of option ids; rules, prices, parts and lead times work per chosen option."""

import pytest

from c2m_core import Catalog, CatalogError, load_catalog
from c2m_core.validation import parse_configuration, validate

EXTRAS = """
[[modules]]
id = "extras"
title = "Extras"
min = 0
max = 2
[[modules.options]]
id = "ice"
title = "Ice maker"
price = 300
lead_time_days = 20
attributes = { watts = 40 }
parts = [{ number = "P-ICE" }]
[[modules.options]]
id = "wifi"
title = "Wi-Fi"
price = 100
attributes = { watts = 10 }
parts = [{ number = "P-WIFI" }]
[[modules.options]]
id = "uv"
title = "UV lamp"
price = 50
attributes = { watts = 20 }
"""

RULES = """
[[rules]]
id = "no-ice-with-uv"
kind = "excludes"
message = "Ice maker and UV lamp share a slot"
options = ["extras.ice", "extras.uv"]

[[rules]]
id = "wifi-needs-wall"
kind = "requires"
message = "Wi-Fi needs the wall stand's antenna"
if = ["extras.wifi"]
then = ["stand.wall"]
"""


@pytest.fixture
def catalog(write_catalog, mini_text):
    head, rules = mini_text.split("[[rules]]", 1)
    return load_catalog(write_catalog(head + EXTRAS + RULES + "[[rules]]" + rules))


def test_multi_select_module_loads_and_round_trips(catalog):
    extras = catalog.module("extras")
    assert extras.multiple and (extras.minimum, extras.maximum) == (0, 2)
    assert not extras.required and not catalog.module("size").multiple
    assert catalog.has_multiple
    again = Catalog.from_dict(catalog.to_dict())
    assert again == catalog and again.digest == catalog.digest


BASE = {"size": "s", "stand": "wall"}


@pytest.mark.parametrize(
    "extras, rules",
    [
        ((), set()),
        (("ice",), set()),
        (("ice", "wifi"), set()),
        (("ice", "uv"), {"no-ice-with-uv"}),
        (("ice", "wifi", "uv"), {"option-count", "no-ice-with-uv"}),
        (("ice", "ice"), {"option-count"}),
        (("ice", "fan"), {"unknown-option"}),
    ],
)
def test_validation_counts_options_and_applies_rules_per_option(catalog, extras, rules):
    found = {v.rule for v in validate(catalog, BASE | {"extras": extras})}
    assert found == rules


def test_rules_fire_on_any_chosen_option_and_name_it(catalog):
    (violation,) = validate(catalog, {"size": "s", "stand": "feet", "extras": ("uv", "wifi")})
    assert violation.rule == "wifi-needs-wall" and violation.options == ("extras.wifi",)
    (power,) = validate(
        catalog, {"size": "l", "stand": "wall", "extra": "lamp", "extras": ("ice", "wifi")}
    )
    assert power.rule == "power" and "total watts is 310" in power.message


def test_single_select_module_refuses_several_options(catalog):
    (violation,) = validate(catalog, BASE | {"stand": ("feet", "wall")})
    assert violation.rule == "option-count" and "takes one option, got 2" in violation.message


def test_required_multi_select_and_its_minimum(write_catalog, mini_text):
    head, rules = mini_text.split("[[rules]]", 1)
    text = head + EXTRAS.replace("min = 0", "min = 1") + "[[rules]]" + rules
    catalog = load_catalog(write_catalog(text))
    assert catalog.module("extras").required
    missing = validate(catalog, BASE)
    assert [v.rule for v in missing] == ["required"] and "at least 1 of" in missing[0].message
    assert validate(catalog, BASE, complete=False) == []
    assert [v.rule for v in validate(catalog, BASE | {"extras": ()})] == ["option-count"]


def test_price_parts_and_lead_time_per_chosen_option(catalog):
    from c2m_core.handoff.plan import catalog_parts, lead_time_days
    from c2m_core.presale.pricing import catalog_price

    configuration = BASE | {"extras": ("ice", "wifi")}
    assert catalog_price(catalog, configuration).amount == 10000 + 300 + 100
    assert [p.number for p in catalog_parts(catalog, configuration)] == ["P-ICE", "P-WIFI"]
    assert lead_time_days(catalog, configuration) == 20
    assert lead_time_days(catalog, BASE | {"extras": ("wifi",)}) == 0


@pytest.mark.parametrize(
    "raw, where, expected",
    [
        ("min = 0\nmax = 4", "modules.extras.max", "the module has 3 options"),
        ("min = 3\nmax = 2", "modules.extras", "min (3) is greater than max (2)"),
        ("min = -1\nmax = 2", "modules.extras.min", "must be >= 0"),
        ("required = true\nmax = 2", "modules.extras.required", "leave 'required' out"),
    ],
)
def test_bad_bounds_name_the_place(write_catalog, mini_text, raw, where, expected):
    head, rules = mini_text.split("[[rules]]", 1)
    text = head + EXTRAS.replace("min = 0\nmax = 2", raw) + "[[rules]]" + rules
    with pytest.raises(CatalogError) as info:
        load_catalog(write_catalog(text))
    assert info.value.where == where and expected in str(info.value)


def test_command_line_pairs_choose_several_options():
    assert parse_configuration(["extras=ice,wifi", "size=s"]) == {
        "extras": ("ice", "wifi"),
        "size": "s",
    }
