"""Every hook call goes through pluggy: wrappers wrap it, tracing and call monitoring see it."""

import pytest
from click.testing import CliRunner

from c2m_core import C2M, InvalidInput, PluginError, hookimpl
from c2m_core.cli import make_cli
from c2m_core.plugins import hook_names
from c2m_core.server import Route
from c2m_core.server.plugin_routes import router_for

TV = {
    "size": "43-4k",
    "backlight": "direct-led",
    "appearance": "graphite",
    "functions": "essential",
    "base": "feet",
}
REGISTER_HOOKS = [name for name in hook_names() if name.startswith("register_")]


def commands(app):
    return CliRunner().invoke(make_cli(), ["--help"], obj=app).output


def variant_candidates(app):
    app.campaigns.create("wishes", "tv")
    app.campaigns.advance("wishes")
    app.wishes.submit("wishes", "ann", TV, quantity=3)
    return [v.variant.configuration for v in app.wishes.aggregate("wishes").variants]


def payment_providers(app):
    app.campaigns.create("sale", "tv", stages=["presale"])
    app.variants.add("sale", TV)
    app.campaigns.advance("sale")
    with pytest.raises(InvalidInput) as info:  # the refusal lists every registered provider
        app.presale.open("sale", "7d", provider="no-such-provider")
    return str(info.value)


#: How the core calls each ``register_*`` hook, giving what a user sees of its results.
TRIGGERS = {
    "register_categories": lambda app: sorted(app.categories),
    "register_commands": commands,
    "register_variant_candidates": variant_candidates,
    "register_voting_methods": lambda app: sorted(app.voting.methods),
    "register_payment_providers": payment_providers,
    "register_handoff_connectors": lambda app: sorted(app.handoff.connector_types),
    "register_feedback_rules": lambda app: [
        (rule.department, rule.keywords) for rule in app.feedback.rules(app.category("tv"))
    ],
    "register_routes": lambda app: sorted(route.path for route in router_for(app).routes),
}


class EnergyLabel:
    """A plugin route, so that ``register_routes`` has an implementation to call."""

    @hookimpl
    def register_routes(self):
        return [Route("GET", "/tv/{slug}/energy-label", lambda request: {"label": "A"})]


def wrapper_on_every_register_hook(seen: list[str]):
    """A plugin with a ``wrapper=True`` implementation of each ``register_*`` hook."""

    def wrapper_for(name):
        @hookimpl(wrapper=True, specname=name)
        def wrap(self):
            result = yield
            seen.append(name)
            return result

        return wrap

    methods = {f"wrap_{name}": wrapper_for(name) for name in REGISTER_HOOKS}
    return type("WrapEveryRegisterHook", (), methods)()


def test_every_register_hook_is_covered():
    assert set(REGISTER_HOOKS) == set(TRIGGERS), "say in TRIGGERS how the core calls a new hook"


@pytest.mark.parametrize("hook", REGISTER_HOOKS)
def test_a_wrapper_on_each_register_hook_loads_sees_the_call_and_changes_nothing(tmp_path, hook):
    with C2M(tmp_path / "plain.db", plugins=[EnergyLabel()]) as plain:
        expected = TRIGGERS[hook](plain)
    seen: list[str] = []
    wrapped = [EnergyLabel(), wrapper_on_every_register_hook(seen)]
    with C2M(tmp_path / "wrapped.db", plugins=wrapped) as app:
        assert TRIGGERS[hook](app) == expected
    assert hook in seen


def test_a_wrapper_can_change_what_plugins_register(tmp_path):
    class NoFridges:
        @hookimpl(wrapper=True)
        def register_categories(self):
            registered = yield
            return [[c for c in result if c.name != "fridge"] for result in registered]

    with C2M(tmp_path / "c2m.db", plugins=[NoFridges()]) as app:
        assert "tv" in app.categories and "fridge" not in app.categories


def test_call_monitoring_and_tracing_see_register_hooks(tmp_path):
    with C2M(tmp_path / "c2m.db") as app:
        calls = []
        undo = app.pm.add_hookcall_monitoring(
            lambda name, impls, kwargs: calls.append((name, [i.plugin_name for i in impls])),
            lambda outcome, name, impls, kwargs: None,
        )
        app.categories  # noqa: B018
        undo()
        assert ("register_categories", ["c2m.tv"]) in calls
        assert ("register_categories", ["c2m.fridge"]) in calls

        messages: list[str] = []
        app.pm.trace.root.setwriter(messages.append)
        undo = app.pm.enable_tracing()
        app.voting.methods  # noqa: B018
        undo()
        assert any("register_voting_methods" in message for message in messages)


def test_an_unhashable_plugin_is_refused_with_a_reason(tmp_path):
    class Unhashable:
        __hash__ = None

        @hookimpl
        def register_voting_methods(self):
            return []

    with pytest.raises(PluginError, match="must be hashable"):
        C2M(tmp_path / "c2m.db", plugins=[Unhashable()])
