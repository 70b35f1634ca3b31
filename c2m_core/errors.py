"""Exceptions raised by c2m. Every one carries a message meant for a person."""


class C2MError(Exception):
    """Base class for every error c2m raises on purpose."""


class CatalogError(C2MError):
    """A catalog file is malformed: names the file, the place in it and what is accepted."""

    def __init__(self, source, where, problem):
        self.source = str(source)
        self.where = where
        self.problem = problem
        place = f"{self.source}: {where}" if where else self.source
        super().__init__(f"{place}: {problem}")


class PluginError(C2MError):
    """A plugin could not be loaded: misspelled hook, incompatible version, bad metadata."""


class UnknownCategory(C2MError):
    """No loaded plugin provides the requested category."""

    def __init__(self, name, known):
        self.name = name
        self.known = sorted(known)
        choices = ", ".join(self.known) or "none are loaded"
        super().__init__(f"Unknown category {name!r}; available: {choices}")


class InvalidInput(C2MError):
    """Rejected input from a user or a shop: names the field, the value, what is accepted."""
