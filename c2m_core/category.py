"""Categories: what a category plugin registers (catalog, templates, metadata)."""

from __future__ import annotations

from pathlib import Path

import attrs

from .catalog import Catalog, load_catalog

CATALOG_FILE = "catalog.toml"
TEMPLATES_DIR = "templates"


@attrs.frozen
class Category:
    """A product category: its catalog and the folder of its jinja2 templates (if any)."""

    catalog: Catalog
    templates: Path | None = None

    @property
    def name(self) -> str:
        return self.catalog.id

    @property
    def title(self) -> str:
        return self.catalog.title

    @classmethod
    def from_directory(cls, path: str | Path) -> Category:
        """Load ``catalog.toml`` and the ``templates/`` folder (when present) from ``path``."""
        path = Path(path)
        templates = path / TEMPLATES_DIR
        return cls(load_catalog(path / CATALOG_FILE), templates if templates.is_dir() else None)
