"""Demand forecast before the pre-sale: ``model`` (pure), ``service`` (``app.forecast``),
``synthetic`` (campaigns with a known choice model and conversion, for tests)."""

from typing import TYPE_CHECKING

from .model import Calibration, Prediction, calibrate, predict

_LAZY = {"Forecast", "ForecastService", "VariantForecast"}


def __getattr__(name: str):
    """The stage's service names load on first use, so importing its records stays fast."""
    if name in _LAZY:
        from . import service

        value = getattr(service, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from .service import Forecast, ForecastService, VariantForecast


__all__ = [
    "Calibration",
    "Forecast",
    "ForecastService",
    "Prediction",
    "VariantForecast",
    "calibrate",
    "predict",
]
