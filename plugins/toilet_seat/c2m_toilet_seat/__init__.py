"""The smart toilet seat category, after the seats JD.com's C2M process designed with Panasonic."""

from pathlib import Path

from c2m_core import Category, PluginMeta, Violation, hookimpl
from c2m_core.engine import applies_to

HERE = Path(__file__).parent

c2m_plugin = PluginMeta(
    name="c2m-toilet-seat",
    version="1.0.0",
    core=">=0.1,<1",
    description="Smart toilet seat: heating, washing, drying and comfort on one power budget",
)

#: Warming mains water from about 13 °C to a 38 °C wash: the rise an instant heater must deliver.
TEMPERATURE_RISE_K = 25
#: Specific heat of water, J/(kg K); one millilitre weighs one gram.
WATER_HEAT_J_PER_KG_K = 4186


def instant_heater_watts_needed(flow_ml_min: int) -> int:
    """Watts needed to warm ``flow_ml_min`` of water by ``TEMPERATURE_RISE_K``, rounded up."""
    joules_per_minute = flow_ml_min * WATER_HEAT_J_PER_KG_K * TEMPERATURE_RISE_K // 1000
    return -(-joules_per_minute // 60)


@hookimpl
def register_categories():
    return [Category.from_directory(HERE)]


@hookimpl
@applies_to("toilet-seat")
def validate_configuration(category, configuration):
    """An instant heater must warm the nozzle's flow as it runs: physics a limit cannot say."""
    if category.name != "toilet-seat" or not {"water-heating", "nozzle"} <= configuration.keys():
        return []
    heater = category.catalog.option("water-heating", configuration["water-heating"])
    nozzle = category.catalog.option("nozzle", configuration["nozzle"])
    if not heater.attributes["instant"]:
        return []
    needed = instant_heater_watts_needed(nozzle.attributes["flow_ml_min"])
    if heater.attributes["watts"] >= needed:
        return []
    return [
        Violation(
            "instant-heater-flow",
            f"{nozzle.title} sprays {nozzle.attributes['flow_ml_min']} ml/min, which needs "
            f"{needed} W to warm by {TEMPERATURE_RISE_K} K; the {heater.title.lower()} "
            f"gives {heater.attributes['watts']} W",
            (f"water-heating.{heater.id}", f"nozzle.{nozzle.id}"),
            kind="custom",
        )
    ]
