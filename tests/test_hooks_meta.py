"""The hook contract stays honest: every hook is documented in its docstring and in
docs/hooks.md with every argument, and exercised by some test.

Hooks are discovered from the hookspecs, so a hook added later is held to the same standard.
"""

import inspect
import re
from pathlib import Path

import pytest

from c2m_core import hookspecs
from c2m_core.plugins import hook_names

ROOT = Path(__file__).resolve().parent.parent
HOOKS = hook_names()


def hook_arguments(name: str) -> list[str]:
    return list(inspect.signature(getattr(hookspecs, name)).parameters)


def doc_sections() -> dict[str, str]:
    """``## heading`` -> the text up to the next heading of docs/hooks.md."""
    text = (ROOT / "docs" / "hooks.md").read_text()
    parts = re.split(r"^## +(.+?)\s*$", text, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_hooks_are_discovered():
    assert {"register_categories", "validate_configuration"} <= set(HOOKS)


@pytest.mark.parametrize("name", HOOKS)
def test_hookspec_docstring_names_every_argument(name):
    doc = inspect.getdoc(getattr(hookspecs, name))
    assert doc, f"hook {name} has no docstring"
    for argument in hook_arguments(name):
        assert re.search(rf"^:param {argument}: \S", doc, flags=re.MULTILINE), (
            f"the docstring of hook {name} lacks ':param {argument}: ...'"
        )


@pytest.mark.parametrize("name", HOOKS)
def test_docs_have_a_section_naming_every_argument(name):
    sections = doc_sections()
    assert name in sections, f"docs/hooks.md has no '## {name}' section"
    for argument in hook_arguments(name):
        assert f"`{argument}`" in sections[name], (
            f"docs/hooks.md section {name} does not name argument `{argument}`"
        )


def test_docs_describe_no_hook_that_does_not_exist():
    stale = [h for h in doc_sections() if re.fullmatch(r"[a-z_0-9]+", h) and h not in HOOKS]
    assert not stale, f"docs/hooks.md documents hooks c2m does not declare: {stale}"


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_is_exercised_by_a_test(name):
    this = Path(__file__).resolve()
    test_files = [*ROOT.glob("tests/**/*.py"), *ROOT.glob("plugins/*/tests/**/*.py")]
    users = [p for p in test_files if p.resolve() != this and name in p.read_text()]
    assert users, f"no test file other than {this.name} mentions hook {name}"
