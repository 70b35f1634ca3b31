"""Getting the ``C2M`` application from a click context."""

from __future__ import annotations

import click

from ..app import C2M


def app_from(ctx: click.Context | None = None) -> C2M:
    """The application for this invocation: the ``obj`` a caller passed, else a new one."""
    root = (ctx or click.get_current_context()).find_root()
    if not isinstance(root.obj, C2M):
        root.obj = C2M(db_path=root.params.get("db"))
    return root.obj
