"""The fridge category: door layout, capacity, width, compressor, cooling, energy grade, extras."""

from pathlib import Path

from c2m_core import Category, PluginMeta, Violation, hookimpl
from c2m_core.engine import applies_to

HERE = Path(__file__).parent

c2m_plugin = PluginMeta(
    name="c2m-fridge",
    version="1.0.0",
    core=">=0.1,<1",
    description="Configurable refrigerator with GB 12021.2 energy grades",
)

ENERGY_MODULES = ("capacity", "compressor", "cooling", "energy")


@hookimpl
def register_categories():
    return [Category.from_directory(HERE)]


def energy_efficiency_index(capacity, compressor, cooling) -> int:
    """The build's energy efficiency index in whole percent, rounded up.

    The capacity's reference index (inverter, no-frost) scaled by the compressor's and the
    cooling's consumption factors, all integer percentages.
    """
    scaled = (
        capacity.attributes["eei_pct"]
        * compressor.attributes["energy_pct"]
        * cooling.attributes["energy_pct"]
    )
    return -(-scaled // 10_000)


@hookimpl
@applies_to("fridge")
def validate_configuration(category, configuration):
    """The certified grade must cover the build's energy efficiency index: a product of three
    modules' attributes compared with a fourth's, which a declarative limit cannot express."""
    if category.name != "fridge" or any(m not in configuration for m in ENERGY_MODULES):
        return []
    capacity, compressor, cooling, energy = (
        category.catalog.option(module, configuration[module]) for module in ENERGY_MODULES
    )
    eei = energy_efficiency_index(capacity, compressor, cooling)
    if eei <= energy.attributes["max_eei"]:
        return []
    return [
        Violation(
            "energy-index",
            f"{energy.title} allows an energy efficiency index of at most "
            f"{energy.attributes['max_eei']} %, but {capacity.title} with the "
            f"{compressor.title.lower()} and {cooling.title.lower()} reaches {eei} %",
            tuple(f"{module}.{configuration[module]}" for module in ENERGY_MODULES),
            kind="custom",
        )
    ]
