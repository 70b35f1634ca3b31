"""Feedback on delivered variants: ``records``, ``service`` (``app.feedback``), ``defaults``."""

from typing import TYPE_CHECKING

from .records import FALLBACK_DEPARTMENT, Feedback, FeedbackRoute, FeedbackRule

_LAZY = {"FeedbackService"}


def __getattr__(name: str):
    """The stage's service names load on first use, so importing its records stays fast."""
    if name in _LAZY:
        from . import service

        value = getattr(service, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from .service import FeedbackService


__all__ = ["FALLBACK_DEPARTMENT", "Feedback", "FeedbackRule", "FeedbackService", "FeedbackRoute"]
