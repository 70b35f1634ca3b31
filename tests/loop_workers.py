"""Worker processes for the loop concurrency tests (spawned, so importable by name)."""

from c2m_core import C2M, Category, PluginMeta, hookimpl, load_catalog
from c2m_core.rewards import ReferralLimit


def attribute_many(db_path, catalog_path, code, numbers, barrier, results):
    class Mini:
        c2m_plugin = PluginMeta(name="mini", version="1", core=">=0.1")

        @hookimpl
        def register_categories(self):
            return [Category(load_catalog(catalog_path))]

    accepted = 0
    with C2M(db_path, plugins=[Mini()]) as app:
        barrier.wait()
        for n in numbers:
            try:
                app.rewards.attribute("c", f"k{n}", code)
                accepted += 1
            except ReferralLimit:
                pass
    results.put(accepted)
