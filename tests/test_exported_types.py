"""Every type a hook implementation meets is importable from ``c2m_core`` itself."""

import inspect
import re
from pathlib import Path

import c2m_core
from c2m_core import hookspecs
from c2m_core.plugins import hook_names

HOOKS_DOC = Path(__file__).resolve().parents[1] / "docs" / "hooks.md"
NOT_OURS = {"None", "StrictUndefined"}  # jinja2's, and a constant


def named_types() -> set[str]:
    """Capitalised names the hook documentation puts in code quotes or subclasses in examples."""
    texts = [inspect.getdoc(getattr(hookspecs, name)) for name in hook_names()]
    texts.append(HOOKS_DOC.read_text(encoding="utf-8"))
    found = set()
    for text in texts:
        found |= set(re.findall(r"`+(?:c2m_core(?:\.\w+)*\.)?([A-Z]\w*)`+", text))
        found |= set(re.findall(r"^class \w+\((\w+)\)", text, re.M))
        found |= set(re.findall(r"^from c2m_core[.\w]* import ([\w, ]+)$", text, re.M))
    names = {name.strip() for item in found for name in item.split(",")}
    # capitalised, but not constants such as the HTTP methods a Route takes
    return {name for name in names if name[:1].isupper() and not name.isupper()} - NOT_OURS


def test_the_documentation_names_the_types_plugins_meet():
    names = named_types()
    # a sample of what the hooks pass and expect, so a broken extraction cannot pass unnoticed
    assert {"Campaign", "Connector", "Delivery", "Handoff", "Payment", "Refund"} <= names
    assert {"VoteResult", "VotingMethod", "Wish", "Variant", "Pledge", "Package"} <= names


def test_every_type_named_in_the_hook_docs_is_exported_from_c2m_core():
    missing = sorted(name for name in named_types() if name not in c2m_core.__all__)
    assert missing == []
    for name in named_types():
        assert isinstance(getattr(c2m_core, name), type), name
