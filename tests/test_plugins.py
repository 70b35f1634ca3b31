"""Plugin loading: entry points, code registration, metadata checks, misspelled hooks."""

import click
import pytest
from click.testing import CliRunner

from c2m_core import C2M, C2MError, Category, PluginError, PluginMeta, hookimpl
from c2m_core.cli import make_cli
from c2m_core.plugins import selected_entry_points


def test_bundled_plugins_load_from_entry_points(tmp_path):
    app = C2M(tmp_path / "c2m.db")
    assert "tv" in app.categories
    assert app.category_plugin("tv") == "c2m.tv"


def test_load_plugins_env_empty_means_none(tmp_path, monkeypatch):
    monkeypatch.setenv("C2M_LOAD_PLUGINS", "")
    assert C2M(tmp_path / "c2m.db").categories == {}


def test_load_plugins_env_unknown_name_is_an_error(monkeypatch):
    monkeypatch.setenv("C2M_LOAD_PLUGINS", "c2m.tv,c2m.nope")
    with pytest.raises(PluginError, match="'c2m.nope', but no installed plugin"):
        C2M(":memory:")


def test_selected_entry_points_honours_the_list():
    assert [ep.name for ep in selected_entry_points({"C2M_LOAD_PLUGINS": "c2m.tv"})] == ["c2m.tv"]


def test_plugins_registered_from_code(tmp_path, mini_catalog, category_plugin):
    app = C2M(tmp_path / "c2m.db", plugins=[category_plugin(mini_catalog)], load_entry_points=False)
    assert list(app.categories) == ["mini"]


def test_misspelled_hook_names_plugin_and_hook():
    class Typo:
        @hookimpl
        def register_categorys(self):
            return []

    with pytest.raises(PluginError) as info:
        C2M(":memory:", plugins=[Typo()], load_entry_points=False)
    message = str(info.value)
    assert "Typo" in message and "'register_categorys'" in message
    assert "did you mean 'register_categories'?" in message


def test_hook_argument_not_in_spec_is_refused():
    class WrongArgument:
        @hookimpl
        def register_categories(self, catalog):
            return []

    with pytest.raises(PluginError, match="WrongArgument.*catalog"):
        C2M(":memory:", plugins=[WrongArgument()], load_entry_points=False)


def test_incompatible_core_version_names_both_versions(mini_catalog, category_plugin):
    plugin = category_plugin(mini_catalog, version="2.3.0", core=">=5,<6", name="future")
    with pytest.raises(PluginError) as info:
        C2M(":memory:", plugins=[plugin], load_entry_points=False)
    assert "future 2.3.0 supports c2m core >=5,<6, but this is c2m core 0.1.0" in str(info.value)


def test_bad_core_specifier_is_explained(mini_catalog, category_plugin):
    plugin = category_plugin(mini_catalog, core="version five")
    with pytest.raises(PluginError, match="is not a version specifier"):
        C2M(":memory:", plugins=[plugin], load_entry_points=False)


def test_same_category_from_two_plugins_is_an_error(mini_catalog, category_plugin):
    app = C2M(
        ":memory:",
        load_entry_points=False,
        plugins=[
            category_plugin(mini_catalog, name="one"),
            category_plugin(mini_catalog, name="two"),
        ],
    )
    with pytest.raises(C2MError, match="category 'mini' is registered twice"):
        app.category("mini")


def test_register_categories_must_return_categories():
    class Wrong:
        @hookimpl
        def register_categories(self):
            return ["tv"]

    app = C2M(":memory:", plugins=[Wrong()], load_entry_points=False)
    with pytest.raises(C2MError, match="must return Category objects, got .tv."):
        app.category("mini")


def test_two_instances_do_not_share_plugins(tmp_path, mini_catalog, category_plugin):
    with_mini = C2M(tmp_path / "a.db", plugins=[category_plugin(mini_catalog)])
    plain = C2M(tmp_path / "b.db")
    assert set(with_mini.categories) - set(plain.categories) == {"mini"}
    assert "tv" in plain.categories


def test_register_commands_adds_a_command(tmp_path):
    class Hello:
        @hookimpl
        def register_commands(self, cli):
            @cli.command()
            def hello():
                """Say hello."""
                click.echo("hello from a plugin")

    app = C2M(tmp_path / "c2m.db", plugins=[Hello()])
    result = CliRunner().invoke(make_cli(), ["hello"], obj=app)
    assert result.exit_code == 0, result.output
    assert result.output == "hello from a plugin\n"
    help_text = CliRunner().invoke(make_cli(), ["--help"], obj=app).output
    assert "hello" in help_text


def test_prepare_jinja2_environment_adds_filters(tmp_path):
    class Shout:
        @hookimpl
        def prepare_jinja2_environment(self, env):
            env.filters["shout"] = lambda text: text.upper() + "!"

    app = C2M(tmp_path / "c2m.db", plugins=[Shout()])
    env = app.jinja_environment()
    template = env.from_string("{{ name|shout }} {{ 499900|money('CNY') }} {{ 1200|money('JPY') }}")
    assert template.render(name="<b>tv</b>") == "&lt;B&gt;TV&lt;/B&gt;! CNY 4,999.00 JPY 1,200"


def test_default_plugins_can_be_replaced(tmp_path):
    class Money:
        @hookimpl(tryfirst=True)
        def prepare_jinja2_environment(self, env):
            env.filters["money"] = lambda amount, currency: f"{amount} {currency}"

    env = C2M(tmp_path / "c2m.db", plugins=[Money()]).jinja_environment()
    assert env.from_string("{{ 5|money('EUR') }}").render() == "5 EUR"


def test_plugin_meta_must_be_the_right_type():
    class Bad:
        c2m_plugin = {"name": "bad"}

    with pytest.raises(PluginError, match="must be a c2m_core.PluginMeta"):
        C2M(":memory:", plugins=[Bad()], load_entry_points=False)


def test_tv_plugin_declares_metadata():
    import c2m_tv

    assert isinstance(c2m_tv.c2m_plugin, PluginMeta)
    assert isinstance(c2m_tv.register_categories()[0], Category)
