"""The hooks of the foundation, each exercised the way a plugin uses it."""

import click
import pytest
from click.testing import CliRunner

from c2m_core import C2M, C2MError, Catalog, Category, PluginError, Violation, hookimpl
from c2m_core.cli import make_cli

CATALOG = {
    "category": {"id": "kettle", "title": "Kettle", "currency": "CNY", "base_price": 19900},
    "modules": [
        {
            "id": "body",
            "title": "Body",
            "options": [
                {"id": "glass", "title": "Glass", "attributes": {"litres": 17}},
                {"id": "steel", "title": "Steel", "attributes": {"litres": 15}},
            ],
        },
        {"id": "lid", "title": "Lid", "options": [{"id": "flip", "title": "Flip lid"}]},
    ],
}


class Kettle:
    def __init__(self, name="kettle"):
        data = {**CATALOG, "category": {**CATALOG["category"], "id": name}}
        self.category = Category(Catalog.from_dict(data))

    @hookimpl
    def register_categories(self, app):
        assert isinstance(app, C2M)
        return [self.category]


def make_app(*plugins) -> C2M:
    return C2M(db_path=":memory:", plugins=plugins, load_entry_points=False)


def test_register_categories_adds_categories():
    app = make_app(Kettle(), Kettle("teapot"))
    assert list(app.categories) == ["kettle", "teapot"]
    assert app.category("kettle").catalog.module("body").option("glass").title == "Glass"


def test_register_categories_refuses_duplicates_naming_both_plugins():
    first, second = Kettle(), Kettle()
    app = C2M(db_path=":memory:", load_entry_points=False)
    app.pm.register(first, name="first")
    app.pm.register(second, name="second")
    with pytest.raises(C2MError, match="category 'kettle' is registered twice") as info:
        app.category("kettle")
    assert "first" in str(info.value) and "second" in str(info.value)


def test_register_categories_refuses_what_is_not_a_category():
    class Wrong:
        @hookimpl
        def register_categories(self):
            return [CATALOG]

    app = C2M(db_path=":memory:", load_entry_points=False)
    app.pm.register(Wrong(), name="wrong")
    with pytest.raises(C2MError, match="plugin wrong: register_categories must return Category"):
        app.category("kettle")


def test_validate_configuration_adds_custom_violations():
    seen = []

    class NoSteelLid(Kettle):
        @hookimpl
        def validate_configuration(self, app, category, configuration, complete):
            seen.append((category.name, dict(configuration), complete))
            if configuration.get("body") == "steel":
                return [Violation("steel-lid", "no flip lid on steel", ("body.steel",), "custom")]
            return None

    app = make_app(NoSteelLid())
    assert app.validate("kettle", {"body": "glass", "lid": "flip"}) == []
    violations = app.validate("kettle", {"body": "steel", "lid": "fiip"})
    assert [v.rule for v in violations] == ["unknown-option", "steel-lid"]
    # the hook sees only known choices, and whether the configuration must be complete
    assert seen[-1] == ("kettle", {"body": "steel"}, True)
    app.validate("kettle", {"body": "glass"}, complete=False)
    assert seen[-1] == ("kettle", {"body": "glass"}, False)


def test_validate_configuration_may_take_fewer_arguments():
    class Short(Kettle):
        @hookimpl
        def validate_configuration(self, configuration):
            return [Violation("always", "no")] if "body" in configuration else []

    assert [v.rule for v in make_app(Short()).validate("kettle", {"body": "glass"})] == [
        "required",
        "always",
    ]


def test_register_commands_adds_a_command_to_the_cli():
    class Greeter:
        @hookimpl
        def register_commands(self, cli):
            @cli.command()
            @click.argument("name")
            def greet(name):
                """Say hello."""
                click.echo(f"Hello, {name}")

    app = make_app(Greeter())
    runner = CliRunner()
    result = runner.invoke(make_cli(), ["greet", "world"], obj=app)
    assert result.exit_code == 0, result.output
    assert result.output == "Hello, world\n"
    result = runner.invoke(make_cli(), ["--help"], obj=app)
    assert "greet" in result.output and "Say hello." in result.output


def test_register_commands_with_a_misspelled_hook_is_an_error():
    class Misspelled:
        @hookimpl
        def register_command(self, cli):
            pass

    with pytest.raises(PluginError, match="did you mean 'register_commands'"):
        make_app(Misspelled())


def test_prepare_jinja2_environment_adds_filters(tmp_path):
    class Litres(Kettle):
        @hookimpl
        def prepare_jinja2_environment(self, env, app):
            assert isinstance(app, C2M)
            env.filters["litres"] = lambda tenths: f"{tenths / 10:.1f} L"

    app = make_app(Litres())
    env = app.jinja_environment()
    html = env.from_string("{{ 17|litres }} {{ 19900|money('CNY') }} {{ text }}").render(
        text="<script>"
    )
    assert html == "1.7 L CNY 199.00 &lt;script&gt;"
