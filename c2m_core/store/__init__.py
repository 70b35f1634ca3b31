"""The store: the only place that writes SQL. See ``database.py``."""

from .campaigns import CampaignStore
from .database import Event, Store, StoreError, utc_now
from .handoff import HandoffStore
from .presale import PresaleStore
from .server import ServerStore
from .variants import VariantStore
from .voting import VotingStore
from .wishes import WishStore

AREAS = (
    CampaignStore,
    VariantStore,
    WishStore,
    VotingStore,
    PresaleStore,
    HandoffStore,
    ServerStore,
)


def open_store(target, clock=utc_now) -> Store:
    """Open (and migrate) the store at ``target``: a SQLite file path or ``":memory:"``.

    The one place that picks an implementation from a target, for ``C2M``, the CLI and the
    store contract suite.
    """
    return Store(target, AREAS, clock=clock)


__all__ = ["AREAS", "Event", "Store", "StoreError", "open_store"]
