"""The TV category: a Leader-style modular TV (size, backlight, appearance, functions, base)."""

from pathlib import Path

from c2m_core import Category, PluginMeta, Violation, hookimpl
from c2m_core.engine import applies_to

from .normalize import normalize_wish  # noqa: F401 (a hook implementation)

HERE = Path(__file__).parent

c2m_plugin = PluginMeta(
    name="c2m-tv",
    version="1.0.0",
    core=">=0.1,<1",
    description="Modular smart TV after Haier's Leader (统帅) campaigns",
)


@hookimpl
def register_categories():
    return [Category.from_directory(HERE)]


@hookimpl
@applies_to("tv")
def validate_configuration(category, configuration):
    """The base must carry the panel and the frame: a comparison between two attributes."""
    if category.name != "tv" or "size" not in configuration or "base" not in configuration:
        return []
    catalog = category.catalog
    panel = catalog.option("size", configuration["size"])
    base = catalog.option("base", configuration["base"])
    frame = catalog.option("appearance", configuration.get("appearance", "")) or None
    weight = panel.attributes["weight_kg"] + (frame.attributes["weight_kg"] if frame else 0)
    if weight > base.attributes["max_load_kg"]:
        involved = [f"size.{panel.id}", f"base.{base.id}"]
        if frame:
            involved.insert(1, f"appearance.{frame.id}")
        return [
            Violation(
                "base-load",
                f"{base.title} carries at most {base.attributes['max_load_kg']} kg, "
                f"but panel and frame weigh {weight} kg",
                tuple(involved),
                kind="custom",
            )
        ]
    return []


@hookimpl
def register_feedback_rules(category):
    """Buyers' words for the TV's modules, so feedback seeds the next campaign's wishes."""
    from c2m_core.feedback import FeedbackRule

    if category.name != "tv":
        return []
    return [
        FeedbackRule(
            "tv-dim",
            "production",
            keywords=("dim", "too dark", "brightness", "太暗"),
            module="backlight",
            option="mini-led",
        ),
        FeedbackRule("tv-wobbly", "design", keywords=("wobbly", "wobbles"), module="base"),
    ]
