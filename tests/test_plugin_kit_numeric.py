"""The conformance kit on numeric modules: the numbers check names dead values as ranges and a
tolerance smaller than a step; a sound numeric plugin passes every check."""

from __future__ import annotations

import pytest

from c2m_core import Catalog, Category, PluginMeta, hookimpl
from c2m_core.testing import CHECKS, check_plugin

META = PluginMeta(name="c2m-shelf", version="1.0.0", core=">=0.1,<1")


def shelf_catalog(number=None, rules=()) -> dict:
    return {
        "category": {"id": "shelf", "title": "Shelf", "currency": "EUR", "base_price": 4900},
        "modules": [
            {
                "id": "board",
                "title": "Board",
                "options": [
                    {"id": "pine", "title": "Pine", "attributes": {"max_cm": 120}},
                    {"id": "oak", "title": "Oak", "price": 3000, "attributes": {"max_cm": 200}},
                ],
            },
            {
                "id": "width",
                "title": "Width",
                "number": number
                or {"min": 60, "max": 200, "step": 20, "unit": "cm", "price_per_unit": 50},
            },
        ],
        "rules": list(rules),
    }


PINE_SPAN = {
    "id": "pine-span",
    "kind": "requires",
    "message": "Pine boards span at most 120 cm",
    "if": ["width>120"],
    "then": ["board.oak"],
}


class Shelf:
    c2m_plugin = META

    def __init__(self, catalog: dict):
        self.category = Category(Catalog.from_dict(catalog))

    @hookimpl
    def register_categories(self):
        return [self.category]


def test_a_sound_numeric_plugin_passes_every_check():
    check_plugin(Shelf(shelf_catalog(rules=[PINE_SPAN])))
    assert "numbers" in CHECKS


def test_values_in_no_valid_configuration_are_named_as_ranges():
    too_wide = {
        "id": "wall",
        "kind": "limit",
        "message": "The wall rail carries 140 cm",
        "attribute": "width",
        "max": 140,
    }
    with pytest.raises(AssertionError) as info:
        check_plugin(Shelf(shelf_catalog(rules=[too_wide])), ["numbers"])
    message = str(info.value)
    assert "failed the conformance check 'numbers'" in message
    assert "numeric module 'width'" in message and "160 to 200 cm is in no valid" in message
    assert "Fix: narrow the range" in message
    # dead-options leaves numeric values to the numbers check
    check_plugin(Shelf(shelf_catalog(rules=[too_wide])), ["dead-options"])


def test_a_tolerance_smaller_than_a_step_is_reported():
    number = {"min": 60, "max": 200, "step": 20, "accept": "smaller", "tolerance": 10}
    with pytest.raises(AssertionError) as info:
        check_plugin(Shelf(shelf_catalog(number)), ["numbers"])
    assert "within 10, less than its step 20" in str(info.value)
