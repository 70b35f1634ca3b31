"""Shared helpers for the loop tests: a small campaign run from wishes to hand-off."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from c2m_core import C2M, hookimpl

SMALL_FEET = {"size": "s", "stand": "feet"}  # 100.00 EUR
LARGE_WALL = {"size": "l", "stand": "wall"}  # 150.00 EUR
WISHES = (
    ("alice", {"size": "s"}, 2),  # covers SMALL_FEET
    ("bob", {"size": "s", "stand": "feet"}, 1),  # covers SMALL_FEET
    ("carol", {"size": "l"}, 3),  # covers LARGE_WALL
    ("dave", {"stand": "wall"}, 1),  # covers LARGE_WALL
)


def run_campaign(app, folder: Path, slug="c", pledges=None, rule=None, before_close=None):
    """Wishes -> pre-sale (threshold 3: small/feet tips, large/wall fails) -> hand-off.

    ``rule`` (kwargs of ``app.rewards.set_rule``) is set before pledging; ``before_close(app,
    variants)`` runs after pledging. Returns the two variants.
    """
    app.campaigns.create(slug, "mini", stages=("wishes", "presale", "handoff"))
    app.campaigns.advance(slug, to="wishes")
    for customer, configuration, quantity in WISHES:
        app.wishes.submit(slug, customer, configuration, quantity=quantity)
    small = app.variants.add(slug, SMALL_FEET)
    large = app.variants.add(slug, LARGE_WALL)
    app.campaigns.advance(slug, to="presale")
    app.presale.open(slug, "7d", deposit="10%", threshold=3)
    if rule is not None:
        app.rewards.set_rule(slug, **rule)
    for number, (variant, customer, quantity) in enumerate(
        pledges or [(small, "erin", 2), (small, "frank", 2), (large, "gina", 1)], start=1
    ):
        app.presale.place(slug, variant.id, customer, quantity, f"{slug}-k{number}")
    if before_close is not None:
        before_close(app, (small, large))
    app.presale.close(slug)
    app.handoff.run(slug, [f"dir:{folder / slug}"])
    return small, large


class KeyLog:
    """Provider ``keylog``: appends each payout key to a file; can SIGKILL its own process
    right after the first payout (after the provider acted, before c2m records the outcome)."""

    def __init__(self, path, die_after_first=False, fail_keys=()):
        self.path = Path(path)
        self.die = die_after_first
        self.fail_keys = set(fail_keys)

    @hookimpl
    def register_payment_providers(self):
        return ["keylog"]

    @hookimpl
    def pay_reward(self, provider, reward):
        if provider != "keylog":
            return None
        if reward.key in self.fail_keys:
            self.fail_keys.discard(reward.key)
            raise RuntimeError("provider unavailable")
        with open(self.path, "a", encoding="utf-8") as fp:
            fp.write(f"{reward.key}\t{reward.amount.amount}\n")
            fp.flush()
            os.fsync(fp.fileno())
        if self.die:
            os.kill(os.getpid(), signal.SIGKILL)
        return f"keylog-{reward.key}"


def pay_in_process(db_path, catalog_path, log_path, slug, die):
    """Worker: open the database with the mini category and the key-log provider, pay rewards."""
    from c2m_core import Category, PluginMeta, load_catalog

    class Mini:
        c2m_plugin = PluginMeta(name="mini", version="1", core=">=0.1")

        @hookimpl
        def register_categories(self):
            return [Category(load_catalog(catalog_path))]

    with C2M(db_path, plugins=[Mini(), KeyLog(log_path, die_after_first=die)]) as app:
        app.rewards.pay(slug)
