"""The store: the only place that writes SQL. See ``database.py``."""

from .campaigns import CampaignStore
from .database import Event, Store, StoreError
from .handoff import HandoffStore
from .presale import PresaleStore
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
)

__all__ = ["AREAS", "Event", "Store", "StoreError"]
