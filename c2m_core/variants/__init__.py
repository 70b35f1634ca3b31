"""Variants: the complete configurations a campaign votes on, pre-sells and produces.

``records`` (``Variant``) and ``service`` (``app.variants``).
"""

from .records import SOURCES, InvalidVariant, Variant, default_name, variant_key
from .service import VariantService

__all__ = [
    "InvalidVariant",
    "SOURCES",
    "Variant",
    "VariantService",
    "default_name",
    "variant_key",
]
