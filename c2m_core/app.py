"""``C2M``: one instance of c2m with its own plugins and its own database connection.

No global state: two instances in one process, with different plugins and databases, do not
interfere. The command line and shop backends use the same object. An instance holds one SQLite
connection, usable only in the thread that opened it; ``for_thread`` makes a cheap copy for
another thread that shares the loaded plugins (see ``docs/embedding.md``).
"""

from __future__ import annotations

import importlib
import os
import warnings
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import plugins as _plugins
from .catalog import Choice
from .category import Category
from .config import DB_ENV, DEFAULT_DB, FILES_ENV, is_postgres_url, utc_now
from .errors import InvalidInput, NotFound, UnknownCategory
from .validation import Violation, known_choices, validate

if TYPE_CHECKING:
    from .campaigns.service import CampaignService
    from .engine import Engine
    from .events import EventService
    from .feedback.service import FeedbackService
    from .forecast.service import ForecastService
    from .handoff.service import HandoffService
    from .personalisation.service import PersonalisationService
    from .presale.service import PresaleService
    from .rewards.service import RewardService
    from .store import Store
    from .variants import VariantService
    from .voting.service import VoteService
    from .wishes.service import WishService

__all__ = ["C2M", "DB_ENV", "DEFAULT_DB"]

ENGINE_CACHE_SIZE = 16


def __getattr__(name: str) -> Any:
    """``Engine`` loads on first use (the configuration engine imports the SAT solver)."""
    if name == "Engine":
        from .engine import Engine

        return Engine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check_sqlite_file(path: Path, create: bool = True, contents: bool = True) -> None:
    """Refuse, with a clear error, a path that is not (and cannot become) a c2m database.

    A missing file (unless ``create``), a folder, and with ``contents`` a file that is not
    SQLite or another program's SQLite database (tables, but none of c2m's migrations).
    Reading the contents opens and closes the file, which drops every SQLite lock this process
    holds on it (POSIX advisory locks): check contents only before any connection is open, as
    the command line does.
    """
    if str(path) == ":memory:":
        return
    accepted = "a c2m SQLite database file, or a new file name in an existing folder"
    if not path.exists():
        if not create:
            raise NotFound(
                f"database {path} does not exist; commands that create something (c2m "
                "campaign create, c2m demo, c2m db migrate) create it; or pass --db PATH",
                field="--db",
                value=str(path),
                accepted="an existing c2m database",
            )
        return
    if path.is_dir():
        raise InvalidInput(
            f"database {path} is a folder", field="--db", value=str(path), accepted=accepted
        )
    if not contents:
        return
    try:
        with open(path, "rb") as fp:
            head = fp.read(16)
    except OSError as ex:
        raise InvalidInput(
            f"database {path} cannot be read ({ex.strerror})",
            field="--db",
            value=str(path),
            accepted=accepted,
        ) from None
    if not head:
        return
    if head != b"SQLite format 3\0":
        raise InvalidInput(
            f"database {path} is not a SQLite database; pass --db with a c2m database or a "
            "new file name",
            field="--db",
            value=str(path),
            accepted=accepted,
        )
    import sqlite3

    try:
        conn = sqlite3.connect(path, timeout=10)
        try:
            found = conn.execute("select name from sqlite_master where type = 'table'")
            tables = {row[0] for row in found}
        finally:
            conn.close()
    except sqlite3.Error:
        return  # busy or damaged: opening the store reports it
    # c2m creates its migrations table before any other table, in every process
    ours = "_sqlite_migrations" in tables
    if tables and not ours:
        shown = ", ".join(sorted(tables)[:5])
        raise InvalidInput(
            f"database {path} belongs to another program (tables: {shown}); c2m keeps its own "
            "database: pass --db with a c2m database or a new file name",
            field="--db",
            value=str(path),
            accepted=accepted,
        )


class _Service:
    """A stage service, created (and its module imported) on first use: fast start-up."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __set_name__(self, owner, attribute: str) -> None:
        self.attribute = attribute

    def __get__(self, app, owner=None) -> Any:
        if app is None:
            return self
        service = getattr(importlib.import_module(self.module), self.name)(app)
        app.__dict__[self.attribute] = service
        return service


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
    :param create_database: create the SQLite file when it does not exist (when False, using
        the store raises ``NotFound`` naming the missing file instead)
    :param files_dir: the folder uploads are stored in by sha256 (default: ``$C2M_FILES``, else
        ``<database name>.files`` beside a SQLite file, ``./c2m-files`` for PostgreSQL)
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
        create_database: bool = True,
        files_dir=None,
    ):
        target = db_path or os.environ.get(DB_ENV) or DEFAULT_DB
        #: The database: a ``Path`` for a SQLite file, the URL string for PostgreSQL.
        self.db_path = target if is_postgres_url(target) else Path(target)
        self.clock = clock
        self.create_database = create_database
        if files_dir is None and plugins_from is not None:
            files_dir = plugins_from.files_dir
        self._files_dir = files_dir
        #: Check that an existing file is a c2m SQLite database before opening it (the command
        #: line sets it; it reads the file, so only a process without connections to it may).
        self.check_contents = False
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

    campaigns: CampaignService = _Service("c2m_core.campaigns.service", "CampaignService")  # type: ignore[assignment]
    variants: VariantService = _Service("c2m_core.variants", "VariantService")  # type: ignore[assignment]
    wishes: WishService = _Service("c2m_core.wishes.service", "WishService")  # type: ignore[assignment]
    voting: VoteService = _Service("c2m_core.voting.service", "VoteService")  # type: ignore[assignment]
    presale: PresaleService = _Service("c2m_core.presale.service", "PresaleService")  # type: ignore[assignment]
    handoff: HandoffService = _Service("c2m_core.handoff.service", "HandoffService")  # type: ignore[assignment]
    events: EventService = _Service("c2m_core.events", "EventService")  # type: ignore[assignment]
    rewards: RewardService = _Service("c2m_core.rewards.service", "RewardService")  # type: ignore[assignment]
    feedback: FeedbackService = _Service("c2m_core.feedback.service", "FeedbackService")  # type: ignore[assignment]
    forecast: ForecastService = _Service("c2m_core.forecast.service", "ForecastService")  # type: ignore[assignment]
    personalisation: PersonalisationService = _Service(
        "c2m_core.personalisation.service", "PersonalisationService"
    )  # type: ignore[assignment]

    @cached_property
    def files_dir(self) -> Path:
        """The folder uploads are stored in, by sha256 (outside the database)."""
        if self._files_dir is not None:
            return Path(self._files_dir)
        if os.environ.get(FILES_ENV):
            return Path(os.environ[FILES_ENV])
        if isinstance(self.db_path, Path) and str(self.db_path) != ":memory:":
            return self.db_path.with_name(f"{self.db_path.stem}.files")
        if isinstance(self.db_path, Path):
            import tempfile

            return Path(tempfile.mkdtemp(prefix="c2m-files-"))
        return Path("c2m-files")

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
        from .store import open_store

        if isinstance(self.db_path, Path) and (self.check_contents or not self.create_database):
            check_sqlite_file(self.db_path, self.create_database, contents=self.check_contents)
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
        hook = self._rules_hook(category)
        if hook is not None:
            known = known_choices(category.catalog, configuration)
            for result in hook(app=self, category=category, configuration=known, complete=complete):
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
            engine_class = globals().get("Engine") or __getattr__("Engine")
            engine = engine_class(category.catalog, self._custom_rules(category))
            engines[key] = engine
        engines[id(category.catalog)] = (category.catalog, engine)
        while len(engines) > 2 * ENGINE_CACHE_SIZE:
            engines.pop(next(iter(engines)))
        return engine

    def _custom_rules(self, category: Category):
        """The plugins' ``validate_configuration`` as one function, or None when none exist."""
        hook = self._rules_hook(category)
        if hook is None:
            return None

        def custom(configuration, complete):
            violations: list[Violation] = []
            for result in hook(
                app=self, category=category, configuration=configuration, complete=complete
            ):
                violations.extend(result or ())
            return violations

        return custom

    def _rules_hook(self, category: Category):
        """The ``validate_configuration`` hook of the implementations for ``category``, or None
        when there are none. Implementations declared (``c2m_core.engine.applies_to``) for
        other categories are left out, so ``validate`` and the engines ask the same ones; the
        rest are called through the plugin manager (hook wrappers still apply)."""
        from .engine.custom import declared_categories

        impls = self.pm.hook.validate_configuration.get_hookimpls()
        elsewhere = [
            impl.plugin
            for impl in impls
            if (names := declared_categories(impl.function)) is not None
            and category.name not in names
        ]
        if len(elsewhere) == len(impls):
            return None
        if elsewhere:
            return self.pm.subset_hook_caller("validate_configuration", remove_plugins=elsewhere)
        return self.pm.hook.validate_configuration

    def jinja_environment(self, category: Category | None = None):
        """The template environment: the category's templates first, then the core's."""
        from .templating import make_environment

        env = make_environment([category.templates] if category else [])
        self.pm.hook.prepare_jinja2_environment(env=env, app=self)
        return env
