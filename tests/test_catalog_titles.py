"""Titles in several languages: a string or a table of languages, with a default language."""

import json

import pytest
from click.testing import CliRunner

from c2m_core import Catalog, CatalogError, load_catalog
from c2m_core.cli import make_cli

ZH_SIZE = 'title = { en = "Size", zh = "尺寸" }'


def test_string_and_table_titles_with_fallback(write_catalog, mini_text):
    text = mini_text.replace('title = "Size"', ZH_SIZE).replace(
        'title = "Large"', 'title = { en = "Large", zh = "大号" }'
    )
    catalog = load_catalog(write_catalog(text))
    size = catalog.module("size")
    assert size.title == "Size" and size.title_in("zh") == "尺寸" and size.title_in("en") == "Size"
    assert size.title_in("zh-CN") == "尺寸"
    assert size.title_in("fr") == "Size" and size.title_in(None) == "Size"
    assert catalog.option("size", "l").title_in("zh") == "大号"
    assert catalog.option("size", "s").title_in("zh") == catalog.option("size", "s").title
    assert catalog.title_in("zh") == catalog.title
    assert catalog.languages == ("en", "zh")


def test_titles_round_trip_and_change_the_digest(write_catalog, mini_text, mini_catalog):
    catalog = load_catalog(write_catalog(mini_text.replace('title = "Size"', ZH_SIZE)))
    again = Catalog.from_dict(catalog.to_dict())
    assert again == catalog and again.digest == catalog.digest
    assert catalog.digest != mini_catalog.digest
    assert catalog.to_dict()["modules"][0]["title"] == {"en": "Size", "zh": "尺寸"}
    # A catalog with plain titles keeps its shape, so stored snapshots keep their digests.
    assert mini_catalog.to_dict()["modules"][0]["title"] == "Size"


def test_default_language_is_declared_and_required_in_tables(write_catalog, mini_text):
    text = mini_text.replace('currency = "EUR"', 'currency = "EUR"\nlanguage = "zh"', 1)
    text = text.replace('title = "Size"', 'title = { zh = "尺寸", en = "Size" }')
    catalog = load_catalog(write_catalog(text))
    assert catalog.language == "zh"
    assert (
        catalog.module("size").title == "尺寸" and catalog.module("size").title_in("en") == "Size"
    )
    assert Catalog.from_dict(catalog.to_dict()) == catalog


@pytest.mark.parametrize(
    "title, where, expected",
    [
        (
            '{ zh = "尺寸" }',
            "modules.size.title",
            "no title in the catalog's default language 'en'",
        ),
        ('{ en = "Size", "Chinese!" = "尺寸" }', "modules.size.title.Chinese!", "language tag"),
        ('{ en = "Size", zh = 3 }', "modules.size.title.zh", "expected a string"),
        ("{}", "modules.size.title", "at least one language"),
        ("3", "modules.size.title", "expected a string or a table of languages"),
    ],
)
def test_bad_titles_name_the_place(write_catalog, mini_text, title, where, expected):
    with pytest.raises(CatalogError) as info:
        load_catalog(write_catalog(mini_text.replace('title = "Size"', f"title = {title}")))
    assert info.value.where == where
    assert expected in str(info.value)


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("C2M_DB", str(tmp_path / "c2m.db"))

    def run(*args):
        result = CliRunner().invoke(make_cli(), list(args))
        assert result.exit_code == 0, result.output
        return result.output

    return run


def test_cli_shows_the_tv_catalog_in_chinese(run):
    assert "模块化智能电视" in run("catalog", "list", "--lang", "zh")
    assert "模块化智能电视" not in run("catalog", "list")
    shown = run("catalog", "show", "tv", "--lang", "zh")
    assert "尺寸与面板" in shown and "胡桃木饰面" in shown
    assert "Walnut wood veneer" in run("catalog", "show", "tv", "--lang", "fr")
    data = json.loads(run("catalog", "show", "tv", "--json"))
    assert data["modules"][0]["title"] == {"en": "Size and panel", "zh": "尺寸与面板"}


def test_every_tv_title_has_chinese(run):
    from c2m_core import C2M

    catalog = C2M(db_path=":memory:").category("tv").catalog
    assert "zh" in catalog.titles
    for module in catalog.modules:
        assert "zh" in module.titles
        for option in module.options:
            assert "zh" in option.titles, option.id


def test_configurator_page_uses_the_negotiated_language(tmp_path):
    import warnings

    pytest.importorskip("fastapi")
    from c2m_core import C2M
    from c2m_core.server import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    app = C2M(tmp_path / "c2m.db")
    app.campaigns.create("tv-2026", category="tv", title="TV 2026")
    app.campaigns.advance("tv-2026")
    with TestClient(create_app(app, webhooks=False)) as client:
        zh = client.get("/c/tv-2026/configure", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        en = client.get("/c/tv-2026/configure", headers={"Accept-Language": "en"})
    app.close()
    assert zh.status_code == 200 and en.status_code == 200
    assert "尺寸与面板" in zh.text and "胡桃木饰面" in zh.text
    assert "Size and panel" in en.text and "尺寸与面板" not in en.text
