"""``C2M``: one instance of c2m with its own plugins (and, later, its own database).

No global state: two instances in one process, with different plugins and databases, do not
interfere. The command line and shop backends use the same object.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path

from . import plugins as _plugins
from .category import Category
from .engine import Engine
from .errors import C2MError, UnknownCategory
from .templating import make_environment
from .validation import Violation, validate

DEFAULT_DB = "c2m.db"
DB_ENV = "C2M_DB"
ENGINE_CACHE_SIZE = 16


class C2M:
    """The c2m application: plugins, categories, validation, and the stage services.

    :param db_path: the SQLite database file (default: ``$C2M_DB`` or ``./c2m.db``)
    :param plugins: plugin objects (modules, classes, instances) to register from code
    :param load_entry_points: also load installed plugins from the ``c2m`` entry-point group
    """

    def __init__(self, db_path=None, plugins=(), load_entry_points: bool = True):
        self.db_path = Path(db_path or os.environ.get(DB_ENV) or DEFAULT_DB)
        self.pm = _plugins.make_plugin_manager()
        _plugins.load(self.pm, plugins, entry_points_too=load_entry_points)

    @cached_property
    def categories(self) -> dict[str, Category]:
        """Every registered category, by name."""
        found: dict[str, Category] = {}
        owners: dict[str, str] = {}
        for plugin_name, result in _plugins.call_each(self.pm, "register_categories", app=self):
            for category in result or ():
                if not isinstance(category, Category):
                    raise C2MError(
                        f"plugin {plugin_name}: register_categories must return Category "
                        f"objects, got {type(category).__name__}"
                    )
                if category.name in found:
                    raise C2MError(
                        f"category {category.name!r} is registered twice: by "
                        f"{owners[category.name]} and by {plugin_name}"
                    )
                found[category.name] = category
                owners[category.name] = plugin_name
        self._category_owners = owners
        return dict(sorted(found.items()))

    def category(self, name: str) -> Category:
        """The category called ``name``; ``UnknownCategory`` lists the available ones."""
        try:
            return self.categories[name]
        except KeyError:
            raise UnknownCategory(name, self.categories) from None

    def category_plugin(self, name: str) -> str:
        """The name of the plugin that registered category ``name``."""
        self.category(name)
        return self._category_owners[name]

    def validate(
        self, category: Category | str, configuration: Mapping[str, str], complete: bool = True
    ) -> list[Violation]:
        """Every violation: structure, declarative rules and plugins' custom rules."""
        if isinstance(category, str):
            category = self.category(category)
        violations = validate(category.catalog, configuration, complete=complete)
        known = {
            m: o for m, o in configuration.items() if category.catalog.option(m, o) is not None
        }
        for result in self.pm.hook.validate_configuration(
            app=self, category=category, configuration=known, complete=complete
        ):
            violations.extend(result or ())
        return violations

    def engine(self, category: Category | str) -> Engine:
        """The configuration engine of a category, with the plugins' custom rules wired in.

        Compiled once per category and catalog (a campaign's frozen catalog gets its own).
        """
        if isinstance(category, str):
            category = self.category(category)
        engines = self.__dict__.setdefault("_engines", {})
        entry = engines.get(id(category.catalog))
        if entry is not None and entry[0] is category.catalog:
            return entry[1]
        key = (category.name, category.catalog.digest)
        engine = engines.get(key)
        if engine is None:
            engine = Engine(category.catalog, self._custom_rules(category))
            engines[key] = engine
        engines[id(category.catalog)] = (category.catalog, engine)
        while len(engines) > 2 * ENGINE_CACHE_SIZE:
            engines.pop(next(iter(engines)))
        return engine

    def _custom_rules(self, category: Category):
        """The plugins' ``validate_configuration`` as one function, or None when none exist."""
        if not self.pm.hook.validate_configuration.get_hookimpls():
            return None

        def custom(configuration, complete):
            violations = []
            for result in self.pm.hook.validate_configuration(
                app=self, category=category, configuration=configuration, complete=complete
            ):
                violations.extend(result or ())
            return violations

        return custom

    def jinja_environment(self, category: Category | None = None):
        """The template environment: the category's templates first, then the core's."""
        env = make_environment([category.templates] if category else [])
        self.pm.hook.prepare_jinja2_environment(env=env, app=self)
        return env
