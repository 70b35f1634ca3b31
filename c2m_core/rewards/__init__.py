"""Designer rewards, share codes and referrals: ``records`` and ``service`` (``app.rewards``)."""

from typing import TYPE_CHECKING

from .records import (
    AlreadyAttributed,
    Attribution,
    FunnelRow,
    PayoutReport,
    ReferralLimit,
    Reward,
    RewardRule,
    RulesFrozen,
    SelfReferral,
    ShareCode,
    ShowcaseEntry,
    largest_remainder,
)

_LAZY = {"RewardService", "covers"}


def __getattr__(name: str):
    """The stage's service names load on first use, so importing its records stays fast."""
    if name in _LAZY:
        from . import service

        value = getattr(service, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from .service import RewardService, covers


__all__ = [
    "AlreadyAttributed",
    "Attribution",
    "FunnelRow",
    "PayoutReport",
    "ReferralLimit",
    "Reward",
    "RewardRule",
    "RewardService",
    "RulesFrozen",
    "SelfReferral",
    "ShareCode",
    "ShowcaseEntry",
    "covers",
    "largest_remainder",
]
