"""Notifications fire only after their change committed: the core's guard, a default plugin.

Every past-tense hook (``campaign_advanced``, ``pledge_placed``, ...) tells plugins about a change
that is already in the database. Services send them with ``store.after_commit``; this plugin's
wrappers, which pluggy runs around every implementation, refuse a notification sent while the
app's store still has a transaction open (a rollback could still undo the change it reports).
See ``docs/transactions.md``.
"""

from __future__ import annotations

import pluggy

from . import hookspecs
from .errors import C2MError
from .hookspecs import hookimpl

#: The notification hooks, in the order ``hookspecs`` declares them.
NOTIFICATIONS = (
    "campaign_advanced",
    "wish_submitted",
    "ballot_cast",
    "vote_closed",
    "pledge_placed",
    "pledge_cancelled",
    "variant_tipped",
    "presale_closed",
    "handoff_delivered",
)


class NotificationInTransaction(C2MError):
    """A notification hook was called while its change could still be rolled back."""

    def __init__(self, hook: str):
        self.hook = hook
        super().__init__(
            f"{hook} was called inside an open transaction; notifications fire only after "
            "their change is committed (queue them with store.after_commit)",
            field="hook",
            value=hook,
            accepted="a call outside any transaction",
        )


def check_outside_transaction(app, hook: str) -> None:
    """Raise ``NotificationInTransaction`` when ``app``'s store has a transaction open."""
    store = getattr(app, "__dict__", {}).get("store")  # not opened yet: nothing is open
    if store is not None and store.in_transaction:
        raise NotificationInTransaction(hook)


def has_listeners(pm: pluggy.PluginManager, hook: str) -> bool:
    """Whether a plugin (other than wrappers such as this guard) implements notification ``hook``.

    Lets a bulk path skip building notifications nobody receives.
    """
    return any(
        not (impl.wrapper or impl.hookwrapper) for impl in getattr(pm.hook, hook).get_hookimpls()
    )


def _guard(name: str):
    @hookimpl(wrapper=True, tryfirst=True)
    def guard(app):
        check_outside_transaction(app, name)
        return (yield)

    guard.__name__ = guard.__qualname__ = name
    guard.__doc__ = f"Refuse ``{name}`` inside an open transaction."
    return guard


campaign_advanced = _guard("campaign_advanced")
wish_submitted = _guard("wish_submitted")
ballot_cast = _guard("ballot_cast")
vote_closed = _guard("vote_closed")
pledge_placed = _guard("pledge_placed")
pledge_cancelled = _guard("pledge_cancelled")
variant_tipped = _guard("variant_tipped")
presale_closed = _guard("presale_closed")
handoff_delivered = _guard("handoff_delivered")

assert all(hasattr(hookspecs, name) for name in NOTIFICATIONS)
