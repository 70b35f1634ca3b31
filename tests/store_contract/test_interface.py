"""Contract: the store implements every area's Protocol, with the documented signatures."""

import ast
import inspect
import re
from pathlib import Path

import pytest

from c2m_core.store import interface


@pytest.mark.parametrize("area", sorted(interface.AREAS))
def test_each_area_satisfies_its_protocol(store, area):
    protocol = interface.AREAS[area]
    implementation = getattr(store, area)
    assert isinstance(implementation, protocol)
    for name, member in vars(protocol).items():
        if name.startswith("_") or not callable(member):
            continue
        documented = inspect.signature(member)
        actual = inspect.signature(getattr(implementation, name))
        assert list(actual.parameters) == list(documented.parameters)[1:], f"{area}.{name}"
        assert member.__doc__, f"{area}.{name} has no contract"


def test_the_store_satisfies_the_store_protocol(store):
    assert isinstance(store, interface.Store)
    for name in ("transaction", "now", "event", "events_since", "last_event_id", "close"):
        documented = inspect.signature(getattr(interface.Store, name))
        actual = inspect.signature(getattr(store, name))
        assert list(actual.parameters) == list(documented.parameters)[1:], name


ROOT = Path(__file__).resolve().parents[2] / "c2m_core"
#: What the store may import from the stages: their records, never their services.
RECORD_MODULES = {
    "campaigns.records",
    "variants.records",
    "wishes.records",
    "voting.vote",
    "voting.result",
    "handoff.records",
    "handoff.outbox",
    "presale.records",
    "presale.pricing",
    "rewards.records",
    "feedback.records",
    "personalisation.records",
    "money",
    "errors",
}


def imported_modules(path: Path) -> set[str]:
    """The c2m_core modules outside the store that ``path`` imports."""
    tree = ast.parse(path.read_text())
    return {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module
    }


def test_the_interface_imports_no_implementation():
    tree = ast.parse((ROOT / "store" / "interface.py").read_text())
    local = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 1
    }
    assert local == {"records"}


@pytest.mark.parametrize(
    "module", sorted(p.name for p in (ROOT / "store").glob("*.py") if p.name != "presale.py")
)
def test_the_store_imports_records_only(module):
    assert imported_modules(ROOT / "store" / module) <= RECORD_MODULES


#: A connection, SQL, id arithmetic or the store's own encodings inside a service.
LEAKS = (
    r"\.db\b",
    r"\.conn\b",
    r"\bexecute(many)?\(",
    r"lastrowid",
    r"\brows?\[\d",
    r"from \.\.store\.(?!database import isoformat)",
)

SERVICES = [
    ROOT / "events.py",
    *(
        ROOT / stage / "service.py"
        for stage in ("campaigns", "variants", "wishes", "voting", "presale", "rewards", "feedback")
    ),
    ROOT / "handoff" / "service.py",
    ROOT / "wishes" / "imports.py",
]


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_services_never_touch_the_database_directly(path):
    source = path.read_text()
    for leak in LEAKS:
        found = re.search(leak, source)
        assert found is None, f"{path.name} uses {found[0]!r}: call a store operation instead"
