"""c2m: a plugin-based reverse-customization (consumer-to-manufacturer) framework."""

from .app import C2M
from .catalog import Catalog, Excludes, Limit, Module, Option, Part, Ref, Requires, load_catalog
from .category import Category
from .errors import C2MError, CatalogError, InvalidInput, PluginError, UnknownCategory
from .hookspecs import hookimpl
from .money import Money
from .plugins import PluginMeta
from .validation import Violation
from .version import __version__

__all__ = [
    "C2M",
    "C2MError",
    "Catalog",
    "CatalogError",
    "Category",
    "Excludes",
    "InvalidInput",
    "Limit",
    "Module",
    "Money",
    "Option",
    "Part",
    "PluginError",
    "PluginMeta",
    "Ref",
    "Requires",
    "UnknownCategory",
    "Violation",
    "__version__",
    "hookimpl",
    "load_catalog",
]
