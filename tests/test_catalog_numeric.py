"""Numeric modules: a value in a range with a step and a unit (a sofa's length in cm).

The catalog format, its errors, validation of values, prices per unit, comparisons in rules,
the JSON Schema and lint, and the command line taking ``length=240``.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from c2m_core import C2M
from c2m_core.catalog import Catalog, load_catalog
from c2m_core.catalog_lint import lint_catalog
from c2m_core.cli import make_cli
from c2m_core.errors import CatalogError, InvalidInput
from c2m_core.presale.pricing import catalog_price
from c2m_core.validation import validate

ROOT = Path(__file__).resolve().parents[1]
SOFA = ROOT / "plugins/sofa/c2m_sofa/catalog.toml"
SOFA_VALID = {
    "template": "classic",
    "length": "240",
    "depth": "90",
    "room": "living-room",
    "fabric": "linen",
    "legs": "oak",
    "frame": "standard",
}


def shelf(number=None, **module):
    """A one-module catalog whose module is numeric."""
    return {
        "category": {"id": "shelf", "title": "Shelf", "currency": "EUR", "base_price": 1000},
        "modules": [
            {
                "id": "width",
                "title": "Width",
                "number": number or {"min": 40, "max": 100, "step": 20, "unit": "cm"},
                **module,
            }
        ],
    }


def test_a_numeric_module_has_one_option_per_step_with_its_value_price_and_attributes():
    data = shelf(
        {
            "min": 40,
            "max": 100,
            "step": 20,
            "unit": "cm",
            "price_per_unit": 150,
            "attributes": {"width_cm": 1, "width_mm": 10},
        }
    )
    module = Catalog.from_dict(data).module("width")
    assert module.option_ids == ("40", "60", "80", "100")
    assert [o.title for o in module.options] == ["40 cm", "60 cm", "80 cm", "100 cm"]
    assert [o.price for o in module.options] == [0, 3000, 6000, 9000]
    assert module.option("80").attributes == {"width_cm": 80, "width_mm": 800}
    assert Catalog.from_dict(shelf()).module("width").option("60").attributes == {"width": 60}


def test_a_numeric_catalog_round_trips_through_plain_data():
    catalog = load_catalog(SOFA)
    again = Catalog.from_dict(json.loads(json.dumps(catalog.to_dict())))
    assert again == catalog and again.digest == catalog.digest
    assert again.module("length").number == catalog.module("length").number


def test_the_sofa_price_grows_per_centimetre():
    catalog = load_catalog(SOFA)
    short = catalog_price(catalog, SOFA_VALID)
    longer = catalog_price(catalog, {**SOFA_VALID, "length": "250", "depth": "100"})
    assert longer.amount - short.amount == 10 * 900 + 10 * 1500
    assert short.amount == 299900 + 80 * 900 + 10 * 1500


@pytest.mark.parametrize(
    ("number", "module", "where", "says"),
    [
        ({"min": 100, "max": 40}, {}, "modules.width.number", "greater than max"),
        ({"min": 40, "max": 95, "step": 20}, {}, "modules.width.number.max", "use 80"),
        ({"min": 0, "max": 5000}, {}, "modules.width.number.step", "at most 1,000"),
        ({"min": -10, "max": 40}, {}, "modules.width.number.min", ">= 0"),
        ({"min": 40, "max": 60, "step": 0}, {}, "modules.width.number.step", ">= 1"),
        ({"min": 40, "max": 60, "accept": "shorter"}, {}, "modules.width.number.accept", "smaller"),
        ({"min": 40, "max": 60, "attributes": {"w": 1.5}}, {}, "attributes.w", "integer"),
        ({"min": 40, "max": 60, "colour": "red"}, {}, "number.colour", "unknown key"),
        (None, {"options": [{"id": "a", "title": "A"}]}, "modules.width.options", "leave out"),
        (None, {"min": 1}, "modules.width.min", "leave out"),
    ],
)
def test_catalog_errors_name_the_place_and_what_is_accepted(number, module, where, says):
    with pytest.raises(CatalogError) as caught:
        Catalog.from_dict(shelf(number, **module))
    assert where in str(caught.value)
    assert says in str(caught.value)


def test_comparisons_in_rules_reference_every_value_that_compares_so():
    catalog = load_catalog(SOFA)
    long_frame = catalog.rule("long-frame")
    assert [str(ref) for ref in long_frame.if_] == [f"length.{v}" for v in range(280, 330, 10)]
    assert validate(catalog, {**SOFA_VALID, "length": "280"})[0].rule == "long-frame"
    assert not validate(catalog, {**SOFA_VALID, "length": "280", "frame": "reinforced"})
    # A sum with an attribute of another module: sofa plus side table along a study's wall.
    study = {**SOFA_VALID, "room": "study", "length": "290", "frame": "reinforced"}
    assert not validate(catalog, {**study, "side-table": "slim"})
    assert [v.rule for v in validate(catalog, {**study, "side-table": "wide"})] == ["study-wall"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("length >= 400", "no value of 'length' is >= 400"),
        ("room >= 2", "not a numeric module"),
    ],
)
def test_bad_comparisons_are_refused(text, says):
    data = tomllib.loads(SOFA.read_text())
    data["rules"][0]["if"] = [text]
    with pytest.raises(CatalogError, match=says):
        Catalog.from_dict(data)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (
            "245",
            "length: 245 is not on a step; expected a whole number of cm from 160 to 320 "
            "in steps of 10 (nearest: 240 or 250)",
        ),
        (
            "400",
            "length: 400 is out of range; expected a whole number of cm from 160 to 320 "
            "in steps of 10 (nearest: 320)",
        ),
        ("long", "length: 'long' is not a whole number; expected a whole number of cm"),
    ],
)
def test_values_out_of_range_or_off_step_name_the_field_value_and_what_is_accepted(value, says):
    catalog = load_catalog(SOFA)
    [violation] = validate(catalog, {**SOFA_VALID, "length": value})
    assert violation.rule == "number" and violation.kind == "structure"
    assert says in violation.message
    with C2M(db_path=":memory:") as app:
        app.campaigns.create("sofas", "sofa")
        app.campaigns.advance("sofas")
        with pytest.raises(InvalidInput) as caught:
            app.wishes.submit("sofas", "u1", {"length": value})
        assert says in str(caught.value)
        assert caught.value.field == "length"
        assert caught.value.value == value
        assert caught.value.accepted == "a whole number of cm from 160 to 320 in steps of 10"
        wish = app.wishes.submit("sofas", "u2", {"length": 240, "room": "bedroom"})
        assert wish.configuration == {"length": "240", "room": "bedroom"} and wish.valid


def test_schema_and_loader_agree_on_numeric_modules(tmp_path):
    assert lint_catalog(SOFA) == []
    data = tomllib.loads(SOFA.read_text())
    bad = tmp_path / "catalog.toml"
    text = SOFA.read_text().replace("step = 10\n", "step = 10\noptions = []\n", 1)
    bad.write_text(text)
    problems = lint_catalog(bad)
    assert {p.check for p in problems} == {"schema", "loader"}
    assert any(p.where.startswith("modules[1]") for p in problems if p.check == "schema")
    assert data["modules"][1]["number"]["min"] == 160


def run(app, *args):
    return CliRunner().invoke(make_cli(), ["catalog", *args], obj=app)


def test_the_command_line_takes_numeric_values():
    with C2M(db_path=":memory:") as app:
        engine = app.engine("sofa")
        result = run(app, "count", "sofa", "length=240", "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["count"] == engine.count({"length": "240"})
        result = run(app, "options", "sofa", "room=bedroom", "--json")
        assert result.exit_code == 0, result.output
        lengths = json.loads(result.output)["modules"]["length"]["available"]
        assert lengths == [str(v) for v in range(160, 250, 10)]
        result = run(app, "check", "sofa", "length=245", "--partial")
        assert result.exit_code != 0
        assert "245 is not on a step" in result.output
        assert "Traceback" not in result.output


def test_catalog_show_describes_a_numeric_module_in_one_line():
    with C2M(db_path=":memory:") as app:
        result = run(app, "show", "sofa")
    assert result.exit_code == 0, result.output
    assert (
        "a whole number of cm from 160 to 320 in steps of 10, written length=160; "
        "+CNY 9.00 per cm above 160; attributes length_cm=value, wall_cm=value; "
        "a wish accepts smaller sizes within 30 cm"
    ) in result.output
    assert "smaller or larger sizes within 5 cm" in result.output
    assert "\n170 " not in result.output
