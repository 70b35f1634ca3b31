"""The store: the only place that writes SQL. See ``database.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .campaigns import CampaignStore
from .database import Event, Store, StoreError, utc_now
from .dialect import is_postgres_url
from .feedback import FeedbackStore
from .handoff import HandoffStore
from .personalisation import PersonalisationStore
from .presale import PresaleStore
from .rewards import RewardStore
from .server import ServerStore
from .variants import VariantStore
from .voting import VotingStore
from .wishes import WishStore

if TYPE_CHECKING:
    from .postgres import PostgresStore

AREAS = (
    CampaignStore,
    VariantStore,
    WishStore,
    VotingStore,
    PresaleStore,
    HandoffStore,
    PersonalisationStore,
    RewardStore,
    FeedbackStore,
    ServerStore,
)


def open_store(target, clock=utc_now) -> Store | PostgresStore:
    """Open (and migrate) the store at ``target``: a SQLite file path, ``":memory:"``, or a
    ``postgresql://`` (or ``postgres://``) URL, which needs ``pip install 'c2m[postgres]'``.

    The one place that picks an implementation from a target, for ``C2M``, the CLI and the
    store contract suite.
    """
    if is_postgres_url(target):
        from .postgres import PostgresStore

        return PostgresStore(target, AREAS, clock=clock)
    return Store(target, AREAS, clock=clock)


__all__ = ["AREAS", "Event", "Store", "StoreError", "is_postgres_url", "open_store"]
