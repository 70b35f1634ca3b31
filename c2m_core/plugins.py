"""Finding, checking and registering plugins.

Plugins come from the ``c2m`` entry-point group (bundled ones included) and from code.
``C2M_LOAD_PLUGINS`` restricts which entry points load: a comma-separated list of entry-point
names, or the empty string for none. The core's own behaviour is registered first, as ordinary
plugins, so every default can be replaced.
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
from collections.abc import Mapping
from importlib.metadata import entry_points

import attrs
import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from . import hookspecs
from .errors import PluginError
from .version import __version__

ENTRY_POINT_GROUP = "c2m"
LOAD_ENV = "C2M_LOAD_PLUGINS"
DEFAULT_PLUGINS = (
    "c2m_core.notifications",
    "c2m_core.templating",
    "c2m_core.voting.defaults",
    "c2m_core.presale.ledger",
    "c2m_core.presale.defaults",
    "c2m_core.handoff.defaults",
    "c2m_core.rewards.defaults",
    "c2m_core.feedback.defaults",
)


@attrs.frozen
class PluginMeta:
    """What a plugin declares about itself, as the module attribute ``c2m_plugin``.

    ``core`` is a version specifier (``">=0.1,<1"``) for the c2m core versions it supports.
    """

    name: str
    version: str
    core: str
    description: str = ""


def make_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("c2m")
    pm.add_hookspecs(hookspecs)
    return pm


def plugin_meta(plugin) -> PluginMeta | None:
    meta = getattr(plugin, "c2m_plugin", None)
    if meta is not None and not isinstance(meta, PluginMeta):
        raise PluginError(
            f"plugin {_plugin_label(plugin)}: c2m_plugin must be a c2m_core.PluginMeta, "
            f"got {type(meta).__name__}"
        )
    return meta


def check_compatible(meta: PluginMeta, label: str, core_version: str = __version__) -> None:
    """Refuse a plugin whose ``core`` specifier does not admit this core version."""
    try:
        spec = SpecifierSet(meta.core)
    except InvalidSpecifier as ex:
        raise PluginError(
            f"plugin {label} {meta.version}: core requirement {meta.core!r} is not a version "
            "specifier (for example '>=0.1,<1')"
        ) from ex
    if not spec.contains(Version(core_version), prereleases=True):
        raise PluginError(
            f"plugin {label} {meta.version} supports c2m core {meta.core}, "
            f"but this is c2m core {core_version}"
        )


def selected_entry_points(env: Mapping[str, str] | None = None):
    """The ``c2m`` entry points to load, honouring ``C2M_LOAD_PLUGINS``."""
    env = os.environ if env is None else env
    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    wanted = env.get(LOAD_ENV)
    if wanted is None:
        return found
    names = [name.strip() for name in wanted.split(",") if name.strip()]
    by_name = {ep.name: ep for ep in found}
    missing = [name for name in names if name not in by_name]
    if missing:
        raise PluginError(
            f"{LOAD_ENV} names {', '.join(map(repr, missing))}, but no installed plugin has "
            f"that entry-point name; installed: {', '.join(by_name) or 'none'}"
        )
    return [by_name[name] for name in names]


def register(pm: pluggy.PluginManager, plugin, name: str | None = None) -> None:
    """Register one plugin object (module, class or instance), with a clear error on failure."""
    label = name or _plugin_label(plugin)
    if name is None:
        taken = {n for n, _ in pm.list_name_plugin()}
        name = label
        counter = 1
        while name in taken:
            counter += 1
            name = f"{label}#{counter}"
    meta = plugin_meta(plugin)
    if meta is not None:
        check_compatible(meta, label)
    try:
        hash(plugin)
    except TypeError:
        raise PluginError(
            f"plugin {label} must be hashable, as pluggy requires of every plugin object; "
            "a class that defines __eq__ must define __hash__ too (attrs: eq=False)"
        ) from None
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as ex:
        raise PluginError(f"plugin {label}: {_explain_validation(pm, ex)}") from ex
    except ValueError as ex:
        raise PluginError(f"plugin {label} is already registered: {ex}") from ex


def load(pm: pluggy.PluginManager, plugins=(), entry_points_too: bool = True) -> None:
    """Register the defaults, the selected entry points and ``plugins``, then check them."""
    for module_name in DEFAULT_PLUGINS:
        register(pm, importlib.import_module(module_name), name=module_name)
    if entry_points_too:
        for ep in selected_entry_points():
            try:
                module = ep.load()
            except Exception as ex:
                raise PluginError(f"plugin {ep.name} failed to import: {ex}") from ex
            if plugin_meta(module) is None:
                raise PluginError(
                    f"plugin {ep.name} ({ep.value}) declares no c2m_plugin = PluginMeta(...); "
                    "every installed plugin must name its version and the core versions it supports"
                )
            register(pm, module, name=ep.name)
    for plugin in plugins:
        register(pm, plugin)
    check_pending(pm)


def check_pending(pm: pluggy.PluginManager) -> None:
    """Fail when a plugin implements a hook that c2m does not declare (a misspelling)."""
    declared = [name for name in dir(hookspecs) if _is_hookspec(getattr(hookspecs, name))]
    for hook_name, caller in vars(pm.hook).items():
        if caller.spec is not None:
            continue
        for impl in caller.get_hookimpls():
            if impl.opts.get("optionalhook"):
                continue
            close = difflib.get_close_matches(hook_name, declared, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise PluginError(
                f"plugin {impl.plugin_name} implements {hook_name!r}, which is not a c2m hook{hint}"
            )
    pm.check_pending()


def _explain_validation(pm: pluggy.PluginManager, ex: pluggy.PluginValidationError) -> str:
    match = re.search(r"for hook '(\w+)'.*Argument\(s\) (\{.*?\})", str(ex), re.S)
    if not match:
        return str(ex)
    hook = getattr(pm.hook, match.group(1), None)
    provided = ", ".join(hook.spec.argnames) if hook is not None and hook.spec else "nothing"
    return (
        f"its {match.group(1)} takes argument(s) {match.group(2)} that the hook does not "
        f"provide; the hook provides: {provided}"
    )


def call_each(pm: pluggy.PluginManager, hook_name: str, **kwargs):
    """Call a collecting hook plugin by plugin, yielding (plugin name, result).

    Each call is an ordinary pluggy hook call restricted to one implementing plugin
    (``PluginManager.subset_hook_caller``), so wrappers (``wrapper=True``) wrap it and tracing and
    ``add_hookcall_monitoring`` see it. Plugins are called in registration order (the core's
    defaults first). Used where the core must know which plugin returned what, to name it in an
    error or let a later plugin replace a default.
    """
    caller = getattr(pm.hook, hook_name)
    if caller.spec is not None and caller.spec.opts.get("firstresult"):
        raise TypeError(f"call_each collects results; {hook_name} stops at the first one")
    plain = [impl for impl in caller.get_hookimpls() if not (impl.wrapper or impl.hookwrapper)]
    implementers = list(dict.fromkeys(impl.plugin for impl in plain))
    for plugin in implementers:
        others = [other for other in implementers if other is not plugin]
        for result in pm.subset_hook_caller(hook_name, remove_plugins=others)(**kwargs):
            yield pm.get_name(plugin), result


def collect(
    pm: pluggy.PluginManager, hook_name: str, *, noun: str, key, accepts, expected: str, **kwargs
) -> tuple[dict, dict[str, str]]:
    """Flatten a ``register_*`` hook into ``({key: item}, {key: plugin name})``.

    Every item must pass ``accepts`` (else an error naming the plugin and ``expected``). A plugin
    may replace what one of the core's default plugins registered under the same key; two other
    plugins registering one key is an error naming both.
    """
    found: dict = {}
    owners: dict[str, str] = {}
    for plugin_name, result in call_each(pm, hook_name, **kwargs):
        for item in result or ():
            if not accepts(item):
                raise PluginError(
                    f"plugin {plugin_name}: {hook_name} must return {expected}, got {item!r}"
                )
            name = key(item)
            previous = owners.get(name)
            if previous is not None and previous not in DEFAULT_PLUGINS:
                raise PluginError(
                    f"{noun} {name!r} is registered twice: by {previous} and by {plugin_name}"
                )
            found[name] = item
            owners[name] = plugin_name
    return found, owners


def hook_names() -> list[str]:
    """Every hook the core declares, in source order."""
    return [name for name in vars(hookspecs) if _is_hookspec(getattr(hookspecs, name))]


def _is_hookspec(obj) -> bool:
    return callable(obj) and hasattr(obj, "c2m_spec")


def _plugin_label(plugin) -> str:
    """A readable name: a module's or class's ``__name__``, else the instance's class name."""
    return getattr(plugin, "__name__", None) or type(plugin).__name__
