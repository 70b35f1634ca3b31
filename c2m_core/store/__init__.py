"""The store: the only place that writes SQL. See ``database.py``."""

from .campaigns import CampaignStore
from .database import Event, Store, StoreError
from .variants import VariantStore
from .wishes import WishStore

AREAS = (
    CampaignStore,
    VariantStore,
    WishStore,
)

__all__ = ["AREAS", "Event", "Store", "StoreError"]
