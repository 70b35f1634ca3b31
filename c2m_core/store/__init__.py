"""The store: the only place that writes SQL. See ``database.py``."""

from .campaigns import CampaignStore
from .database import Event, Store, StoreError
from .variants import VariantStore
from .votes import VoteStore

AREAS = (
    CampaignStore,
    VariantStore,
    VoteStore,
)

__all__ = ["AREAS", "Event", "Store", "StoreError"]
