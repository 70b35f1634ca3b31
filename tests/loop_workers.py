"""Worker processes for the loop concurrency tests (spawned, so importable by name)."""

import os

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


def place_with_code(db_path, catalog_path, code, variant_id, numbers, barrier, results):
    """Place pledges ``k<n>`` with a share code; put how many the code's limit accepted."""

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
                app.presale.place("c", variant_id, f"buyer-{n}", 1, f"k{n}", share_code=code)
                accepted += 1
            except ReferralLimit:
                pass
    results.put(accepted)


def store_attribute(target, pledge_ids, code, limit, barrier, results):
    """Attribute ``pledge_ids`` to ``code`` straight through the store; put how many took."""
    from c2m_core.store import open_store

    store = open_store(target)
    taken = 0
    barrier.wait()
    try:
        for pledge_id in pledge_ids:
            with store.transaction():
                taken += store.rewards.attribute(pledge_id, code, limit)
    finally:
        store.close()
    results.put(taken)


def store_record_and_pay(target, rewards, barrier, results):
    """Record ``rewards`` and mark each paid; put (recorded, marked paid) by this process."""
    from c2m_core.store import open_store

    store = open_store(target)
    recorded = paid = 0
    barrier.wait()
    try:
        for reward in rewards:
            with store.transaction():
                recorded += store.rewards.record(reward)
        for stored in store.rewards.rewards(rewards[0].campaign_id):
            with store.transaction():
                paid += store.rewards.paid(stored.id, f"ref-{os.getpid()}")
    finally:
        store.close()
    results.put((recorded, paid))
