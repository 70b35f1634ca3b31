"""``c2m plugin new``: generate a standalone category plugin distribution from templates.

The templates live in ``plugin/`` beside this module: files ending in ``.jinja`` are rendered
(and lose the suffix), others are copied as they are; ``__package__`` and ``__snake__`` in paths
become the package name and the snake-case name, and ``gitignore`` becomes ``.gitignore``.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

import attrs
import jinja2
from packaging.version import Version

from ..errors import InvalidInput
from ..version import __version__

TEMPLATE_DIR = Path(__file__).resolve().parent / "plugin"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*\Z")


@attrs.frozen
class PluginNames:
    """Every name a new plugin derives from its category NAME (``desk-lamp``)."""

    category: str
    snake: str
    package: str
    distribution: str
    entry_point: str
    title: str
    core: str

    @classmethod
    def from_name(cls, name: str) -> PluginNames:
        check_name(name)
        category = name.replace("_", "-")
        snake = name.replace("-", "_")
        version = Version(__version__)
        return cls(
            category=category,
            snake=snake,
            package=f"c2m_{snake}",
            distribution=f"c2m-{category}",
            entry_point=f"c2m.{snake}",
            title=category.replace("-", " ").capitalize(),
            core=f">={version.major}.{version.minor},<{version.major + 1}",
        )


def check_name(name: str) -> None:
    """Refuse a NAME that would not make a valid category id, package and distribution."""
    if not NAME_PATTERN.match(name):
        raise InvalidInput(
            f"plugin NAME {name!r} is not accepted: use lower-case letters and digits, words "
            "joined by single '-' or '_', starting with a letter (for example desk-lamp)"
        )
    if name == "c2m" or name.startswith(("c2m-", "c2m_")):
        raise InvalidInput(
            f"plugin NAME {name!r}: give the category name alone (desk-lamp); the c2m- prefix "
            "is added to the distribution and package names"
        )
    if keyword.iskeyword(name.replace("-", "_")):
        raise InvalidInput(f"plugin NAME {name!r} is a Python keyword; choose another name")


def new_plugin(name: str, path: str | Path = ".") -> Path:
    """Write a new plugin distribution for category NAME into ``path/c2m-NAME``; return it."""
    names = PluginNames.from_name(name)
    parent = Path(path)
    if parent.exists() and not parent.is_dir():
        raise InvalidInput(
            f"--path {str(parent)!r} is a file; give a folder to create the plugin in"
        )
    target = parent / names.distribution
    if target.exists():
        raise InvalidInput(
            f"{str(target)!r} already exists; choose another NAME or --path, or remove it"
        )
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # generates Python, TOML and Markdown, never HTML
    )
    context = attrs.asdict(names)
    for source in sorted(TEMPLATE_DIR.rglob("*")):
        relative = source.relative_to(TEMPLATE_DIR)
        if source.is_dir() or "__pycache__" in relative.parts:
            continue
        destination = target / _output_path(relative, names)
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.name.endswith(".jinja"):
            destination.write_text(env.get_template(relative.as_posix()).render(context))
        else:
            destination.write_bytes(source.read_bytes())
    return target


def _output_path(relative: Path, names: PluginNames) -> Path:
    parts = []
    for part in relative.parts:
        part = part.replace("__package__", names.package).replace("__snake__", names.snake)
        if part == "gitignore":
            part = ".gitignore"
        parts.append(part.removesuffix(".jinja"))
    return Path(*parts)
