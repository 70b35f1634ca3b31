"""The store: the only place that writes SQL. See ``database.py``."""

from .campaigns import CampaignStore
from .database import Event, Store, StoreError
from .handoffs import HandoffStore
from .pledges import PledgeStore
from .variants import VariantStore
from .votes import VoteStore
from .wishes import WishStore

AREAS = (
    CampaignStore,
    VariantStore,
    WishStore,
    VoteStore,
    PledgeStore,
    HandoffStore,
)

__all__ = ["AREAS", "Event", "Store", "StoreError"]
