"""The ``c2m`` command line: a thin layer over the ``C2M`` application object."""

from __future__ import annotations

import click

from .. import C2MError, InvalidInput, NotFound, __version__
from ..app import DB_ENV, DEFAULT_DB
from .campaign import campaign
from .catalog import catalog
from .context import app_from
from .db import db
from .demo import demo
from .feedback import feedback
from .forecast import forecast
from .handoff import handoff
from .plugin import plugin
from .plugins import plugins
from .presale import pledge, presale
from .report import report
from .reward import reward
from .serve import serve
from .token import token
from .variant import variant
from .vote import vote
from .wish import wish

# In the order of a campaign's life; `c2m --help` lists them so.
CORE_COMMANDS = (
    catalog,
    campaign,
    wish,
    variant,
    vote,
    forecast,
    presale,
    pledge,
    handoff,
    reward,
    feedback,
    report,
    demo,
    serve,
    token,
    plugins,
    plugin,
    db,
)


class InputError(click.ClickException):
    """Bad input from the command line: exit code 2, like a usage error, without the usage."""

    exit_code = 2


class C2MGroup(click.Group):
    """The root group: adds plugins' commands on first use and turns c2m errors into messages."""

    _plugin_commands_loaded = False

    def _load_plugin_commands(self, ctx: click.Context) -> None:
        if self._plugin_commands_loaded:
            return
        self._plugin_commands_loaded = True
        try:
            app_from(ctx).pm.hook.register_commands(cli=self)
        except C2MError as ex:
            raise click.ClickException(str(ex)) from ex

    def list_commands(self, ctx):
        """Core commands in lifecycle order, then plugins' commands."""
        self._load_plugin_commands(ctx)
        return list(self.commands)

    def get_command(self, ctx, cmd_name):
        self._load_plugin_commands(ctx)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (InvalidInput, NotFound) as ex:
            raise InputError(str(ex)) from ex
        except C2MError as ex:
            raise click.ClickException(str(ex)) from ex


def make_cli() -> C2MGroup:
    """A fresh root group with the core's commands (plugins add theirs on first use)."""

    @click.group(cls=C2MGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, "--version", prog_name="c2m")
    @click.option(
        "--db",
        envvar=DB_ENV,
        default=DEFAULT_DB,
        show_default=True,
        help=f"SQLite database file, or a postgresql://user@host/db URL (env {DB_ENV}).",
    )
    def cli(db):
        """c2m: collect wishes, aggregate variants, vote, pre-sell, hand off to the factory."""

    for command in CORE_COMMANDS:
        cli.add_command(command)
    return cli


cli = make_cli()
