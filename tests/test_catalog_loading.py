"""Catalog loading is strict: every error names the file, the place and what is accepted."""

import pytest

from c2m_core import Catalog, CatalogError, Limit, Ref, Requires, load_catalog


@pytest.fixture
def error_for(write_catalog):
    def error_for(text) -> CatalogError:
        with pytest.raises(CatalogError) as info:
            load_catalog(write_catalog(text))
        return info.value

    return error_for


def test_mini_catalog_loads_with_everything(mini_catalog):
    assert mini_catalog.module_ids == ("size", "stand", "extra")
    assert mini_catalog.module("extra").required is False
    large = mini_catalog.option("size", "l")
    assert large.price == 5000 and large.attributes["inches"] == 80
    assert large.parts[0].number == "P-L" and large.parts[0].quantity == 2
    assert isinstance(mini_catalog.rule("large-on-wall"), Requires)
    power = mini_catalog.rule("power")
    assert isinstance(power, Limit) and power.aggregate == "sum" and power.maximum == 250


def test_round_trip_through_dict_keeps_catalog_and_digest(mini_catalog):
    again = Catalog.from_dict(mini_catalog.to_dict())
    assert again == mini_catalog
    assert again.digest == mini_catalog.digest


def test_digest_changes_with_content(write_catalog, mini_text, mini_catalog):
    changed = load_catalog(write_catalog(mini_text.replace("price = 5000", "price = 5001")))
    assert changed.digest != mini_catalog.digest


@pytest.mark.parametrize(
    "old, new, where, expected",
    [
        ('title = "Mini"', 'title = "Mini"\ncolour = "red"', "category.colour", "unknown key"),
        ('id = "stand"', 'id = "size"', "modules[1].id", "duplicate module id 'size'"),
        ('id = "wall"', 'id = "feet"', "modules.stand.options[1].id", "duplicate option id"),
        ('id = "power"', 'id = "fan-needs-size"', "rules[3].id", "duplicate rule id"),
        (
            'then = ["stand.wall"]',
            'then = ["stond.wall"]',
            "rules[0].then[0]",
            "unknown module 'stond'; modules are size, stand, extra",
        ),
        (
            'then = ["stand.wall"]',
            'then = ["stand.hook"]',
            "rules[0].then[0]",
            "unknown option 'hook' in module 'stand'; options are feet, wall",
        ),
        (
            "price = 5000",
            'price = "5000"',
            "modules.size.options[1].price",
            "expected an integer, got a string",
        ),
        ("price = 5000", "price = -1", "modules.size.options[1].price", "must be >= 0, got -1"),
        (
            "base_price = 10000",
            "base_price = 99.5",
            "category.base_price",
            "expected an integer, got a number",
        ),
        (
            'currency = "EUR"',
            'currency = "EURO"',
            "category.currency",
            "not a supported ISO 4217 currency code",
        ),
        (
            'kind = "excludes"',
            'kind = "forbids"',
            "rules[1].kind",
            "accepted kinds are requires, excludes, limit",
        ),
        (
            'options = ["extra.lamp", "stand.feet"]',
            'options = ["extra.lamp"]',
            "rules[1].options",
            "at least two options",
        ),
        ("min = 60", "", "rules[2]", "a limit needs 'min', 'max' or both"),
        ("min = 60", "min = 90\nmax = 70", "rules[2]", "min (90) is greater than max (70)"),
        (
            'attribute = "inches"',
            'attribute = "depth"',
            "rules[2].attribute",
            "no option has the attribute 'depth'",
        ),
        (
            "inches = 40",
            'inches = "forty"',
            "modules.size.options[0].attributes.inches",
            "rule 'fan-needs-size' limits 'inches', so it must be an integer",
        ),
        ('id = "lamp"', 'id = "Lamp!"', "modules.extra.options[0].id", "is not a valid id"),
        (
            '[[modules.options]]\nid = "fan"',
            '[[modules.options]]\nid = "fan"\nretired = "no"',
            "modules.extra.options[1].retired",
            "expected true or false",
        ),
        (
            'parts = [{ number = "P-L", quantity = 2 }]',
            'parts = [{ number = "P-L", qty = 2 }]',
            "modules.size.options[1].parts[0].qty",
            "accepted keys are number, quantity",
        ),
    ],
)
def test_each_error_names_file_place_and_what_is_accepted(
    tmp_path, error_for, mini_text, old, new, where, expected
):
    assert old in mini_text
    error = error_for(mini_text.replace(old, new, 1))
    assert error.where == where
    assert expected in str(error)
    assert str(tmp_path / "catalog.toml") in str(error)


def test_missing_required_key(error_for, mini_text):
    error = error_for(mini_text.replace('title = "Size"\n', "", 1))
    assert error.where == "modules[0]" and "missing required key 'title'" in str(error)


def test_no_modules_is_an_error(error_for):
    error = error_for('modules = []\n[category]\nid="x"\ntitle="X"\ncurrency="EUR"\nbase_price=0\n')
    assert error.where == "modules" and "must not be empty" in str(error)


def test_broken_toml_names_the_file_and_line(error_for, mini_text):
    error = error_for(mini_text.replace('title = "Mini"', "title = Mini"))
    assert "not valid TOML" in str(error) and "line" in str(error)


def test_missing_file(tmp_path):
    with pytest.raises(CatalogError, match="cannot read the file"):
        load_catalog(tmp_path / "nope.toml")


def test_refs_parse_module_and_option():
    assert Ref.parse("base.wall-mount") == Ref("base", "wall-mount")
    assert Ref.parse("backlight") == Ref("backlight", None)
    assert str(Ref("backlight")) == "backlight"
    assert Ref("base").matches({"base": "feet"}) and not Ref("base").matches({})
