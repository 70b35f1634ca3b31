"""The jinja2 environment for spec sheets, work orders and reports.

Lookup order: a category's own ``templates/`` folder, then the core's defaults. Autoescape is on
and undefined variables are errors, so consumer text is always escaped and a template typo fails
loudly instead of printing nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .hookspecs import hookimpl
from .money import format_minor

if TYPE_CHECKING:
    import jinja2

_HERE = Path(__file__).resolve().parent


def core_templates_dir() -> Path:
    """The core's default templates: inside the package when installed, else the source tree."""
    packaged = _HERE / "templates"
    return packaged if packaged.is_dir() else _HERE.parent / "templates"


def make_environment(extra_dirs=()) -> jinja2.Environment:
    """A sandbox-free but strict environment: autoescape, ``StrictUndefined``."""
    import jinja2

    dirs = [str(d) for d in extra_dirs if d is not None] + [str(core_templates_dir())]
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(dirs),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def money(amount: int, currency: str) -> str:
    """``{{ 499900|money("CNY") }}`` -> ``CNY 4,999.00``."""
    return f"{currency} {format_minor(amount, currency)}"


@hookimpl
def prepare_jinja2_environment(env):
    """The default filters: ``money`` formats integer minor units with their currency."""
    env.filters.setdefault("money", money)
