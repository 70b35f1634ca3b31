"""Feedback on delivered variants: ``records``, ``service`` (``app.feedback``), ``defaults``."""

from .records import FALLBACK_DEPARTMENT, Feedback, FeedbackRoute, FeedbackRule
from .service import FeedbackService

__all__ = ["FALLBACK_DEPARTMENT", "Feedback", "FeedbackRule", "FeedbackService", "FeedbackRoute"]
