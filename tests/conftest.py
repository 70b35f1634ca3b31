import textwrap

import pytest

from c2m_core import C2M, Category, PluginMeta, hookimpl, load_catalog

MINI_CATALOG = """
[category]
id = "mini"
title = "Mini"
currency = "EUR"
base_price = 10000

[[modules]]
id = "size"
title = "Size"
[[modules.options]]
id = "s"
title = "Small"
attributes = { inches = 40, watts = 50 }
[[modules.options]]
id = "l"
title = "Large"
price = 5000
attributes = { inches = 80, watts = 200 }
parts = [{ number = "P-L", quantity = 2 }]

[[modules]]
id = "stand"
title = "Stand"
[[modules.options]]
id = "feet"
title = "Feet"
[[modules.options]]
id = "wall"
title = "Wall"
attributes = { watts = 0 }

[[modules]]
id = "extra"
title = "Extra"
required = false
[[modules.options]]
id = "lamp"
title = "Lamp"
attributes = { watts = 60 }
[[modules.options]]
id = "fan"
title = "Fan"
attributes = { watts = 30 }

[[rules]]
id = "large-on-wall"
kind = "requires"
message = "Large sizes hang on the wall"
if = ["size.l"]
then = ["stand.wall"]

[[rules]]
id = "no-lamp-on-feet"
kind = "excludes"
message = "The lamp does not fit a footed stand"
options = ["extra.lamp", "stand.feet"]

[[rules]]
id = "fan-needs-size"
kind = "limit"
message = "The fan needs at least 60 inches"
if = ["extra.fan"]
attribute = "inches"
min = 60

[[rules]]
id = "power"
kind = "limit"
message = "Power budget"
attribute = "watts"
aggregate = "sum"
max = 250
"""


def _write_catalog(tmp_path, text=MINI_CATALOG, name="catalog.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _category_plugin(catalog, version="1.0.0", core=">=0.1", name="mini-plugin"):
    """A plugin object registering ``catalog`` as a category, as a third party would."""

    class Plugin:
        c2m_plugin = PluginMeta(name=name, version=version, core=core)

        @hookimpl
        def register_categories(self):
            return [Category(catalog)]

    Plugin.__name__ = name
    return Plugin()


@pytest.fixture
def mini_text():
    """The text of a small catalog with one rule of each kind."""
    return MINI_CATALOG


@pytest.fixture
def write_catalog(tmp_path):
    """Write catalog text to a file and return its path."""

    def write(text=MINI_CATALOG, name="catalog.toml"):
        return _write_catalog(tmp_path, text, name)

    return write


@pytest.fixture
def category_plugin():
    """Make a plugin object that registers a catalog as a category."""
    return _category_plugin


@pytest.fixture
def mini_catalog(tmp_path):
    return load_catalog(_write_catalog(tmp_path))


@pytest.fixture
def mini_app(tmp_path, mini_catalog):
    with C2M(tmp_path / "c2m.db", plugins=[_category_plugin(mini_catalog)]) as app:
        yield app


@pytest.fixture
def tv_app(tmp_path):
    with C2M(tmp_path / "c2m.db") as app:
        yield app


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for the session (see ``tests/pg_server.py``).

    Skipped with the reason when PostgreSQL is not installed, except in CI, where it fails.
    """
    from components import in_ci
    from pg_server import Unavailable, start_server

    from c2m_core.store import open_store

    try:
        server = start_server()
    except Unavailable as ex:
        if in_ci():
            pytest.fail(f"PostgreSQL is required in CI: {ex}", pytrace=False)
        pytest.skip(f"PostgreSQL not available: {ex}")
    try:
        server.create_template(lambda url: open_store(url).close())
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server):
    """A ``postgresql://`` URL of a fresh, migrated database of its own for this test."""
    name = postgres_server.create_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_target(request, tmp_path):
    """A fresh database on each backend: a SQLite file path, or a ``postgresql://`` URL.

    Tests that prove a concurrency invariant with processes take this, so each worker process
    opens its own ``C2M`` on it, as separate application servers would.
    """
    if request.param == "sqlite":
        return tmp_path / "c2m.db"
    return request.getfixturevalue("postgres_url")
