"""c2m: a plugin-based reverse-customization (consumer-to-manufacturer) framework.

Everything a plugin meets through a hook (the arguments and what it returns) is importable from
here, so that a plugin imports only ``c2m_core``.

Names load on first use (a module ``__getattr__``), so that ``import c2m_core`` stays fast: the
engine, jinja2 and sqlite-utils load only when something needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .version import __version__

_EXPORTS = {
    "C2M": ".app",
    "Campaign": ".campaigns",
    "IllegalTransition": ".campaigns",
    "UnknownCampaign": ".campaigns",
    "Catalog": ".catalog",
    "Excludes": ".catalog",
    "Limit": ".catalog",
    "Module": ".catalog",
    "NumberRange": ".catalog",
    "Option": ".catalog",
    "Part": ".catalog",
    "Ref": ".catalog",
    "Requires": ".catalog",
    "load_catalog": ".catalog",
    "Category": ".category",
    "C2MError": ".errors",
    "CatalogError": ".errors",
    "Conflict": ".errors",
    "InvalidInput": ".errors",
    "NotAllowed": ".errors",
    "NotFound": ".errors",
    "PluginError": ".errors",
    "UnknownCategory": ".errors",
    "Feedback": ".feedback",
    "FeedbackRoute": ".feedback",
    "FeedbackRule": ".feedback",
    "Connector": ".handoff.connectors",
    "DeliveryFailed": ".handoff.connectors",
    "Package": ".handoff.connectors",
    "Document": ".handoff.documents",
    "Delivery": ".handoff.outbox",
    "DemandLine": ".handoff.plan",
    "ProductionOrder": ".handoff.plan",
    "Handoff": ".handoff.records",
    "hookimpl": ".hookspecs",
    "Money": ".money",
    "PluginMeta": ".plugins",
    "CancellationRefused": ".presale",
    "IdempotencyConflict": ".presale",
    "Offer": ".presale",
    "Payment": ".presale",
    "Pledge": ".presale",
    "Presale": ".presale",
    "PresaleClosed": ".presale",
    "Refund": ".presale",
    "SoldOut": ".presale",
    "UnknownPledge": ".presale",
    "Reward": ".rewards.records",
    "PluginRequest": ".server.routes",
    "Route": ".server.routes",
    "Event": ".store",
    "StoreError": ".store",
    "Violation": ".validation",
    "InvalidVariant": ".variants",
    "Variant": ".variants",
    "IncrementalMethod": ".voting",
    "JudgedBallots": ".voting",
    "InvalidBallot": ".voting",
    "VoteResult": ".voting",
    "VotingMethod": ".voting",
    "NoVote": ".voting.service",
    "VoteNotOpen": ".voting.service",
    "CastBallot": ".voting.vote",
    "Vote": ".voting.vote",
    "Wish": ".wishes",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'c2m_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from .app import C2M
    from .campaigns import Campaign, IllegalTransition, UnknownCampaign
    from .catalog import (
        Catalog,
        Excludes,
        Limit,
        Module,
        NumberRange,
        Option,
        Part,
        Ref,
        Requires,
        load_catalog,
    )
    from .category import Category
    from .errors import (
        C2MError,
        CatalogError,
        Conflict,
        InvalidInput,
        NotAllowed,
        NotFound,
        PluginError,
        UnknownCategory,
    )
    from .feedback import Feedback, FeedbackRoute, FeedbackRule
    from .handoff.connectors import Connector, DeliveryFailed, Package
    from .handoff.documents import Document
    from .handoff.outbox import Delivery
    from .handoff.plan import DemandLine, ProductionOrder
    from .handoff.records import Handoff
    from .hookspecs import hookimpl
    from .money import Money
    from .plugins import PluginMeta
    from .presale import (
        CancellationRefused,
        IdempotencyConflict,
        Offer,
        Payment,
        Pledge,
        Presale,
        PresaleClosed,
        Refund,
        SoldOut,
        UnknownPledge,
    )
    from .rewards.records import Reward
    from .server.routes import PluginRequest, Route
    from .store import Event, StoreError
    from .validation import Violation
    from .variants import InvalidVariant, Variant
    from .voting import (
        IncrementalMethod,
        InvalidBallot,
        JudgedBallots,
        VoteResult,
        VotingMethod,
    )
    from .voting.service import NoVote, VoteNotOpen
    from .voting.vote import CastBallot, Vote
    from .wishes import Wish

__all__ = [
    "C2M",
    "C2MError",
    "Campaign",
    "CancellationRefused",
    "CastBallot",
    "Catalog",
    "CatalogError",
    "Category",
    "Conflict",
    "Connector",
    "Delivery",
    "DeliveryFailed",
    "DemandLine",
    "Document",
    "Event",
    "Excludes",
    "Feedback",
    "FeedbackRoute",
    "FeedbackRule",
    "Handoff",
    "IdempotencyConflict",
    "IllegalTransition",
    "IncrementalMethod",
    "JudgedBallots",
    "InvalidBallot",
    "InvalidInput",
    "InvalidVariant",
    "Limit",
    "Module",
    "Money",
    "NoVote",
    "NotAllowed",
    "NotFound",
    "NumberRange",
    "Offer",
    "Option",
    "Package",
    "Part",
    "Payment",
    "Pledge",
    "PluginError",
    "PluginMeta",
    "PluginRequest",
    "Presale",
    "PresaleClosed",
    "ProductionOrder",
    "Ref",
    "Refund",
    "Requires",
    "Reward",
    "Route",
    "SoldOut",
    "StoreError",
    "UnknownCampaign",
    "UnknownCategory",
    "UnknownPledge",
    "Variant",
    "Violation",
    "Vote",
    "VoteNotOpen",
    "VoteResult",
    "VotingMethod",
    "Wish",
    "__version__",
    "hookimpl",
    "load_catalog",
]
