"""Demand forecast before the pre-sale: ``model`` (pure), ``service`` (``app.forecast``),
``synthetic`` (campaigns with a known choice model and conversion, for tests)."""

from .model import Calibration, Prediction, calibrate, predict
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
