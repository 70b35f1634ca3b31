"""The sofa category: a template sofa made to the customer's special length and depth.

After the home-furnishing C2B seed, where customers customise "on a template" with their own
size and room type. Length and depth are numeric modules (see docs/catalog.md); aggregation
standardises the wished sizes into a few production sizes (docs/sizes.md).
"""

from pathlib import Path

from c2m_core import Category, PluginMeta, hookimpl

from .normalize import normalize_wish  # noqa: F401 (a hook implementation)

HERE = Path(__file__).parent

c2m_plugin = PluginMeta(
    name="c2m-sofa",
    version="1.0.0",
    core=">=0.1,<1",
    description="Made-to-measure sofa on a template, sizes standardised by aggregation",
)


@hookimpl
def register_categories():
    return [Category.from_directory(HERE)]
