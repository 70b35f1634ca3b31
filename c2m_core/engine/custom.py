"""Custom Python rules: checking candidates and learning which modules an answer depends on.

A custom rule (a plugin's ``validate_configuration``) cannot be compiled, so the engine asks it
about concrete complete configurations. The configuration is handed over as a read-only mapping
that records which modules the rule reads; the answer then holds for every configuration that
agrees on those modules (custom rules must be pure functions of the configuration they are
given). That lets one check rule out a whole family of configurations, and lets the counter ask
the rule as soon as the modules it reads are decided.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..catalog import Choice
from ..validation import Violation

Custom = Callable[[Mapping[str, Choice], bool], list[Violation]]

CATEGORIES_ATTRIBUTE = "c2m_categories"


def applies_to(*categories: str):
    """Declare the categories a ``validate_configuration`` implementation reports for.

    Put it under ``@hookimpl``; c2m then never asks the implementation about other categories,
    neither in their engines nor in ``C2M.validate`` (an undeclared one is asked about every
    category, as before)::

        @hookimpl
        @applies_to("fridge")
        def validate_configuration(category, configuration): ...
    """
    if not categories or not all(isinstance(name, str) and name for name in categories):
        raise TypeError("applies_to takes one or more category names")

    def mark(function):
        setattr(function, CATEGORIES_ATTRIBUTE, frozenset(categories))
        return function

    return mark


def declared_categories(function) -> frozenset[str] | None:
    """The categories ``applies_to`` declared for a hook implementation, or None."""
    return getattr(function, CATEGORIES_ATTRIBUTE, None)


class _Unseen(BaseException):  # noqa: N818 - control flow, never shown
    """Raised when a rule reads a module the caller did not decide yet (None: every module)."""

    def __init__(self, module: str | None):
        super().__init__(module)
        self.module = module


class NeedsModule(Exception):  # noqa: N818 - control flow between engine parts
    """A custom rule read a module outside the ones offered (``module`` None: all of them)."""

    def __init__(self, module: str | None):
        super().__init__(module)
        self.module = module


class TrackedConfiguration(Mapping):
    """A read-only configuration that records the modules read from it.

    With ``visible`` given, reading any other module of the catalog raises ``_Unseen``.
    """

    def __init__(self, values: Mapping[str, str], modules: frozenset[str], visible=None):
        self._values = values
        self._modules = modules
        self._visible = visible
        self.read: set[str] = set()
        self.read_all = False

    def _see(self, key) -> None:
        if key not in self._modules:
            return
        if self._visible is not None and key not in self._visible:
            raise _Unseen(key)
        self.read.add(key)

    def __getitem__(self, key):
        self._see(key)
        return self._values[key]

    def __contains__(self, key) -> bool:
        self._see(key)
        return key in self._values

    def get(self, key, default=None):
        self._see(key)
        return self._values.get(key, default)

    def _see_all(self) -> None:
        if self._visible is not None and self._visible != self._modules:
            raise _Unseen(None)
        self.read_all = True

    def __iter__(self):
        self._see_all()
        return iter(self._values)

    def __len__(self) -> int:
        self._see_all()
        return len(self._values)

    def __repr__(self) -> str:
        self._see_all()
        return repr(dict(self._values))


class CustomCheck:
    """Calls a custom rule on complete configurations, remembering answers by what they read."""

    def __init__(self, custom: Custom, module_ids):
        self.custom = custom
        self.modules = frozenset(module_ids)
        self.known: dict[frozenset[str] | None, dict[tuple, list[Violation]]] = {}
        self.calls = 0

    def _remembered(self, configuration: Mapping[str, str], visible=None):
        for depends, answers in self.known.items():
            if visible is not None and (depends is None or not depends <= visible):
                continue
            key = _key(configuration, depends)
            if key in answers:
                return answers[key], depends
        return None

    def check(self, configuration: Mapping[str, str]):
        """(violations, modules the answer depends on, or None for all) of a complete one."""
        found = self._remembered(configuration)
        if found is not None:
            return found
        self.calls += 1
        tracked = TrackedConfiguration(configuration, self.modules)
        try:
            violations = list(self.custom(tracked, True) or ())
            depends = None if tracked.read_all else frozenset(tracked.read)
        except Exception:
            violations = list(self.custom(dict(configuration), True) or ())
            depends = None
        self.known.setdefault(depends, {})[_key(configuration, depends)] = violations
        return violations, depends

    def check_part(self, values: Mapping[str, str], visible: frozenset[str]):
        """Violations of every complete configuration that agrees with ``values`` on ``visible``.

        Raises ``NeedsModule`` when the rule reads a module outside ``visible``.
        """
        if visible == self.modules:
            return self.check(values)[0]
        found = self._remembered(values, visible)
        if found is not None:
            return found[0]
        self.calls += 1
        tracked = TrackedConfiguration(values, self.modules, visible)
        try:
            violations = list(self.custom(tracked, True) or ())
        except _Unseen as unseen:
            raise NeedsModule(unseen.module) from None
        except Exception:
            raise NeedsModule(None) from None
        depends = None if tracked.read_all else frozenset(tracked.read)
        self.known.setdefault(depends, {})[_key(values, depends)] = violations
        return violations


def _key(configuration: Mapping[str, str], depends) -> tuple:
    if depends is None:
        return tuple(sorted(configuration.items()))
    return tuple((m, configuration.get(m)) for m in sorted(depends))
