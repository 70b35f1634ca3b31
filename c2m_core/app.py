"""``C2M``: one instance of c2m with its own plugins and its own database connection.

No global state: two instances in one process, with different plugins and databases, do not
interfere. The command line and shop backends use the same object. An instance holds one SQLite
connection, usable only in the thread that opened it; ``for_thread`` makes a cheap copy for
another thread that shares the loaded plugins (see ``docs/embedding.md``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path

from . import plugins as _plugins
from .campaigns.service import CampaignService
from .catalog import Choice
from .category import Category
from .engine import Engine
from .engine.custom import declared_categories
from .errors import UnknownCategory
from .events import EventService
from .feedback.service import FeedbackService
from .forecast.service import ForecastService
from .handoff.service import HandoffService
from .presale.service import PresaleService
from .rewards.service import RewardService
from .store import Store, is_postgres_url, open_store
from .store.database import utc_now
from .templating import make_environment
from .validation import Violation, known_choices, validate
from .variants import VariantService
from .voting.service import VoteService
from .wishes.service import WishService

DEFAULT_DB = "c2m.db"
DB_ENV = "C2M_DB"
ENGINE_CACHE_SIZE = 16


class C2M:
    """The c2m application: plugins, categories, validation, and the stage services.

    :param db_path: the SQLite database file, or a ``postgresql://user@host/db`` URL
        (default: ``$C2M_DB`` or ``./c2m.db``)
    :param plugins: plugin objects (modules, classes, instances) to register from code
    :param load_entry_points: also load installed plugins from the ``c2m`` entry-point group
    :param clock: returns the current UTC ``datetime`` (tests and simulations pass their own)
    :param plugins_from: share this instance's loaded plugins, categories and ``caches``
        instead of loading plugins again (``plugins`` and ``load_entry_points`` are then unused);
        ``for_thread`` is the usual way to ask for it
    """

    _category_owners: dict[str, str]

    def __init__(
        self,
        db_path=None,
        plugins=(),
        load_entry_points: bool = True,
        clock=utc_now,
        *,
        plugins_from: C2M | None = None,
    ):
        target = db_path or os.environ.get(DB_ENV) or DEFAULT_DB
        #: The database: a ``Path`` for a SQLite file, the URL string for PostgreSQL.
        self.db_path = target if is_postgres_url(target) else Path(target)
        self.clock = clock
        if plugins_from is None:
            self.pm = _plugins.make_plugin_manager()
            _plugins.load(self.pm, plugins, entry_points_too=load_entry_points)
            #: What is derived from the plugins and catalogs alone (never database state), such
            #: as the configuration engines built for catalogs: shared by ``for_thread`` copies.
            self.caches: dict = {}
        else:
            self.pm = plugins_from.pm
            self.caches = plugins_from.caches
            self.__dict__["categories"] = plugins_from.categories
            self._category_owners = plugins_from._category_owners
        self.campaigns = CampaignService(self)
        self.variants = VariantService(self)
        self.wishes = WishService(self)
        self.voting = VoteService(self)
        self.presale = PresaleService(self)
        self.handoff = HandoffService(self)
        self.events = EventService(self)
        self.rewards = RewardService(self)
        self.feedback = FeedbackService(self)
        self.forecast = ForecastService(self)

    @property
    def votes(self) -> VoteService:
        """Deprecated alias of ``voting`` (the stage's name), kept for one release."""
        warnings.warn("C2M.votes is deprecated; use C2M.voting", DeprecationWarning, stacklevel=2)
        return self.voting

    def settle_due(self) -> list[str]:
        """Close every pre-sale whose deadline passed; returns the slugs closed.

        Idempotent and never nested in another transaction: a worker or a cron job may run it
        at any time; commands that change state run it for their campaign first.
        """
        return self.presale.settle_due()

    def for_thread(self) -> C2M:
        """A new instance on the same database, with the same plugins, clock and caches.

        Cheap (no plugin loading; its connection opens on first use): make one per thread, or
        per request, of a threaded web server, and ``close`` it when done. Hooks registered on
        this instance fire for the copy too, with the copy as ``app``.
        """
        return type(self)(self.db_path, clock=self.clock, plugins_from=self)

    @cached_property
    def store(self) -> Store:
        """The database, opened (and migrated) on first use."""
        return open_store(self.db_path, clock=self.clock)

    def close(self) -> None:
        """Close the database connection, if it was opened."""
        if "store" in self.__dict__:
            self.store.close()
            del self.__dict__["store"]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @cached_property
    def categories(self) -> dict[str, Category]:
        """Every registered category, by name."""
        found, self._category_owners = _plugins.collect(
            self.pm,
            "register_categories",
            app=self,
            noun="category",
            key=lambda category: category.name,
            accepts=lambda item: isinstance(item, Category),
            expected="Category objects",
        )
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
        self, category: Category | str, configuration: Mapping[str, Choice], complete: bool = True
    ) -> list[Violation]:
        """Every violation: structure, declarative rules and plugins' custom rules."""
        if isinstance(category, str):
            category = self.category(category)
        violations = validate(category.catalog, configuration, complete=complete)
        known = known_choices(category.catalog, configuration)
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
        engines = self.caches.setdefault("engines", {})
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
        """The plugins' ``validate_configuration`` as one function, or None when none exist.

        Implementations declared (``c2m_core.engine.applies_to``) for other categories are left
        out; the rest are called through the plugin manager, as ``validate`` calls them.
        """
        impls = self.pm.hook.validate_configuration.get_hookimpls()
        elsewhere = [
            impl.plugin
            for impl in impls
            if (names := declared_categories(impl.function)) is not None
            and category.name not in names
        ]
        if len(elsewhere) == len(impls):
            return None
        hook = self.pm.hook.validate_configuration
        if elsewhere:
            hook = self.pm.subset_hook_caller("validate_configuration", remove_plugins=elsewhere)

        def custom(configuration, complete):
            violations: list[Violation] = []
            for result in hook(
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
