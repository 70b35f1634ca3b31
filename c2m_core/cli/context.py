"""Getting the ``C2M`` application from a click context."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..app import C2M

CREATES_DATABASE = frozenset({"campaign create", "demo", "db", "serve", "token"})
"""Commands (or groups) that may create a missing database; the others say it does not exist."""


def _command_names(ctx: click.Context) -> list[str]:
    names = []
    while ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return names[::-1]


def app_from(ctx: click.Context | None = None) -> C2M:
    """The application for this invocation: the ``obj`` a caller passed, else a new one."""
    from ..app import C2M

    ctx = ctx or click.get_current_context()
    root = ctx.find_root()
    if not isinstance(root.obj, C2M):
        names = _command_names(ctx)
        create = not names or bool({names[0], " ".join(names[:2])} & CREATES_DATABASE)
        app = C2M(db_path=root.params.get("db"), create_database=create)
        app.check_contents = True  # the store is this process's first connection to the file
        root.obj = app
    return root.obj
