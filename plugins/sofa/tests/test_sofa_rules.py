"""Each sofa rule fires on a configuration that breaks only it and is met by a close one; the
numeric length and depth are priced per centimetre and standardised by aggregation."""

import c2m_sofa
import pytest

from c2m_core import C2M
from c2m_core.presale.pricing import catalog_price

BASIC = {
    "template": "classic",
    "length": "240",
    "depth": "90",
    "room": "living-room",
    "fabric": "linen",
    "legs": "oak",
    "frame": "standard",
}
STUDY = {**BASIC, "room": "study", "length": "280", "frame": "reinforced"}

# rule id -> (configuration breaking only that rule, configuration respecting it)
CASES = {
    "long-frame": ({**BASIC, "length": "280"}, {**BASIC, "length": "280", "frame": "reinforced"}),
    "chaise-length": (
        {**BASIC, "template": "chaise", "length": "210"},
        {**BASIC, "template": "chaise", "length": "220"},
    ),
    "bedroom-length": (
        {**BASIC, "room": "bedroom", "length": "250"},
        {**BASIC, "room": "bedroom", "length": "240"},
    ),
    "study-wall": ({**STUDY, "side-table": "wide"}, {**STUDY, "side-table": "slim"}),
    "chaise-depth": (
        {**BASIC, "template": "chaise", "depth": "85"},
        {**BASIC, "template": "chaise", "depth": "90"},
    ),
    "leather-legs": (
        {**BASIC, "fabric": "leather", "legs": "plinth"},
        {**BASIC, "fabric": "leather", "legs": "metal"},
    ),
}


@pytest.fixture(scope="module")
def app():
    return C2M(db_path=":memory:", plugins=[c2m_sofa], load_entry_points=False)


def test_every_rule_has_a_case(app):
    assert set(CASES) == {rule.id for rule in app.category("sofa").catalog.rules}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires_and_is_respected(app, rule):
    breaking, respecting = CASES[rule]
    assert [v.rule for v in app.validate("sofa", breaking)] == [rule]
    assert app.validate("sofa", respecting) == []


def test_titles_in_chinese_and_english(app):
    catalog = app.category("sofa").catalog
    assert catalog.title_in("zh") == "定制尺寸沙发"
    assert catalog.module("length").title_in("zh") == "长度"
    assert catalog.option("fabric", "tech-cloth").title_in("zh-CN") == "防猫抓科技布"
    assert catalog.option("length", "240").title == "240 cm"


def test_length_and_depth_are_priced_per_centimetre(app):
    catalog = app.category("sofa").catalog
    base = catalog_price(catalog, {**BASIC, "length": "160", "depth": "80"}).amount
    assert catalog_price(catalog, BASIC).amount == base + 80 * 900 + 10 * 1500


def test_a_sofa_wish_accepts_shorter_sizes_only(app):
    number = app.category("sofa").catalog.module("length").number
    assert number.accepted(243 // 10 * 10) == (210, 240)
    depth = app.category("sofa").catalog.module("depth").number
    assert depth.accepted(90) == (85, 95)


def test_the_spec_sheet_gives_the_cutting_sizes(app):
    from c2m_core.testing import spec_context

    category = app.category("sofa")
    configuration = {**STUDY, "side-table": "slim"}
    html = (
        app.jinja_environment(category)
        .get_template("spec_sheet.html")
        .render(spec_context(category, configuration))
    )
    assert "<th>Overall length</th><td>280 cm</td>" in html
    assert "<th>Seat depth</th><td>90 cm</td>" in html
    assert "Slim side table, 30 cm" in html and "SF-RAIL" in html
