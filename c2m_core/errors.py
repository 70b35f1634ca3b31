"""Exceptions raised by c2m. Every one carries a message meant for a person.

The hierarchy is small so that every interface maps it with one table (the CLI to exit codes,
the HTTP API to status codes), by ``kind``:

==================  ================  =====================================================
class               ``kind``          meaning
==================  ================  =====================================================
``InvalidInput``    ``invalid_input`` the request is malformed: a field, its value, what is accepted
``NotFound``        ``not_found``     what the request names does not exist
``Conflict``        ``conflict``      it clashes with what is stored (an idempotency key reused)
``NotAllowed``      ``not_allowed``   not allowed in the current state (a closed vote, a pre-sale)
``SoldOut``         ``sold_out``      no units left against a capacity
==================  ================  =====================================================

Every error may carry structured fields: ``field`` (the input it is about), ``value`` (what was
given), ``accepted`` (what would be), and further ``details``; ``to_dict()`` gives them all.
"""

from __future__ import annotations

from typing import Any


class C2MError(Exception):
    """Base class for every error c2m raises on purpose."""

    kind = "error"

    def __init__(
        self,
        message: str = "",
        *,
        field: str | None = None,
        value: Any = None,
        accepted: str | None = None,
        **details: Any,
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value
        self.accepted = accepted
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The error as data: ``kind``, ``message`` and every structured field that is set."""
        data: dict[str, Any] = {"kind": self.kind, "message": str(self)}
        for name in ("field", "value", "accepted"):
            if getattr(self, name, None) is not None:
                data[name] = getattr(self, name)
        data.update(getattr(self, "details", {}) or {})
        return data


class InvalidInput(C2MError):
    """Rejected input from a user or a shop: names the field, the value, what is accepted."""

    kind = "invalid_input"


class NotFound(C2MError):
    """What the request names (a category, campaign, pledge, vote) does not exist."""

    kind = "not_found"


class Conflict(C2MError):
    """The request clashes with what is stored, such as an idempotency key reused differently."""

    kind = "conflict"


class NotAllowed(C2MError):
    """The request is not allowed in the current state (an illegal transition, a closed stage)."""

    kind = "not_allowed"


class SoldOut(C2MError):
    """Not enough units are left against a capacity."""

    kind = "sold_out"


class CatalogError(C2MError):
    """A catalog file is malformed: names the file, the place in it and what is accepted."""

    kind = "catalog"

    def __init__(self, source, where, problem):
        self.source = str(source)
        self.where = where
        self.problem = problem
        place = f"{self.source}: {where}" if where else self.source
        super().__init__(f"{place}: {problem}")


class PluginError(C2MError):
    """A plugin could not be loaded: misspelled hook, incompatible version, bad metadata."""

    kind = "plugin"


class UnknownCategory(NotFound):
    """No loaded plugin provides the requested category."""

    def __init__(self, name, known):
        self.name = name
        self.known = sorted(known)
        choices = ", ".join(self.known) or "none are loaded"
        super().__init__(
            f"Unknown category {name!r}; available: {choices}",
            field="category",
            value=name,
            accepted=choices,
        )
