"""Variants: the complete configurations a campaign votes on, pre-sells and produces.

``records`` (``Variant``) and ``service`` (``app.variants``).
"""

from typing import TYPE_CHECKING

from .records import SOURCES, InvalidVariant, Variant, default_name, variant_key

_LAZY = {"VariantService"}


def __getattr__(name: str):
    """The stage's service names load on first use, so importing its records stays fast."""
    if name in _LAZY:
        from . import service

        value = getattr(service, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from .service import VariantService


__all__ = [
    "InvalidVariant",
    "SOURCES",
    "Variant",
    "VariantService",
    "default_name",
    "variant_key",
]
