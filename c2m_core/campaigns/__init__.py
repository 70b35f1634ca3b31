"""Campaigns: one category, the stages it uses, its settings and its explicit state machine.

``records`` (``Campaign``, the stages and settings) and ``service`` (``app.campaigns``).
"""

from typing import TYPE_CHECKING

from .records import (
    CLOSED,
    CODE_PATTERN,
    DRAFT,
    SETTINGS,
    STAGES,
    Campaign,
    IllegalTransition,
    UnknownCampaign,
    check_settings,
    check_stages,
)

_LAZY = {"CampaignService"}


def __getattr__(name: str):
    """The stage's service names load on first use, so importing its records stays fast."""
    if name in _LAZY:
        from . import service

        value = getattr(service, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from .service import CampaignService


__all__ = [
    "CLOSED",
    "CODE_PATTERN",
    "Campaign",
    "CampaignService",
    "DRAFT",
    "IllegalTransition",
    "SETTINGS",
    "STAGES",
    "UnknownCampaign",
    "check_settings",
    "check_stages",
]
