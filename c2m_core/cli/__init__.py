"""The ``c2m`` command line: a thin layer over the ``C2M`` application object."""

from __future__ import annotations

import importlib
import os
import sys

import click

from ..config import DB_ENV, DEFAULT_DB
from ..errors import C2MError, InvalidInput, NotFound
from ..version import __version__
from .context import app_from

# In the order of a campaign's life; `c2m --help` lists them so. Each is imported only when it
# is used, so `c2m --version` and `c2m catalog ...` start fast.
CORE_COMMANDS = {
    "catalog": "catalog:catalog",
    "campaign": "campaign:campaign",
    "wish": "wish:wish",
    "variant": "variant:variant",
    "vote": "vote:vote",
    "forecast": "forecast:forecast",
    "presale": "presale:presale",
    "pledge": "presale:pledge",
    "handoff": "handoff:handoff",
    "reward": "reward:reward",
    "feedback": "feedback:feedback",
    "report": "report:report",
    "demo": "demo:demo",
    "serve": "serve:serve",
    "token": "token:token",
    "plugins": "plugins:plugins",
    "plugin": "plugin:plugin",
    "db": "db:db",
}

DB_HELP = f"SQLite database file, or a postgresql://user@host/db URL (env {DB_ENV})."


def _remember_db(ctx: click.Context, param: click.Parameter, value):
    """``--db`` given after a subcommand: it counts as if given before it."""
    if value is not None:
        ctx.find_root().params["db"] = value
    return value


def _with_db_option(command: click.Command) -> click.Command:
    """Accept ``--db`` on ``command`` and every command under it, as well as on ``c2m``."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _with_db_option(sub)
    if not any(isinstance(p, click.Option) and "--db" in p.opts for p in command.params):
        command.params.append(
            click.Option(
                ["--db"],
                expose_value=False,
                is_eager=True,
                callback=_remember_db,
                help=DB_HELP,
                metavar="PATH",
            )
        )
    return command


class InputError(click.ClickException):
    """Bad input from the command line: exit code 2, like a usage error, without the usage."""

    exit_code = 2


class C2MGroup(click.Group):
    """The root group: adds plugins' commands on first use and turns c2m errors into messages."""

    _plugin_commands_loaded = False

    def _core_command(self, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        target = CORE_COMMANDS.get(name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
        self.add_command(_with_db_option(command), name)
        return command

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
        for name in CORE_COMMANDS:
            self._core_command(name)
        self._load_plugin_commands(ctx)
        return list(self.commands)

    def get_command(self, ctx, cmd_name):
        found = self._core_command(cmd_name)
        if found is not None:
            return found
        self._load_plugin_commands(ctx)
        found = super().get_command(ctx, cmd_name)
        return _with_db_option(found) if found is not None else None

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (InvalidInput, NotFound) as ex:
            raise InputError(str(ex)) from ex
        except C2MError as ex:
            raise click.ClickException(str(ex)) from ex
        except OverflowError as ex:
            raise InputError(
                f"a number is too large ({ex}); accepted: whole numbers up to {2**63 - 1:,}"
            ) from ex
        except _sqlite_errors() as ex:
            raise click.ClickException(_database_problem(ctx, ex)) from ex
        except OSError as ex:
            if ex.filename is None:
                raise
            raise InputError(f"{ex.filename}: {ex.strerror or ex}") from ex


def _sqlite_errors() -> tuple[type[Exception], ...]:
    """``sqlite3.Error`` once a command has loaded sqlite3 (it cannot raise one before): the
    ``--version`` and ``catalog`` commands start without importing it."""
    loaded = sys.modules.get("sqlite3")
    return (loaded.Error,) if loaded is not None else ()


def _database_problem(ctx: click.Context, ex: Exception) -> str:
    target = ctx.params.get("db") or os.environ.get(DB_ENV) or DEFAULT_DB
    text = str(ex)
    if "readonly" in text or "read-only" in text:
        return (
            f"database {target} is read-only ({text}); c2m writes to it (and to its folder, "
            "for the write-ahead log): give it write permission or copy it somewhere writable"
        )
    if "not a database" in text or "malformed" in text:
        return f"database {target} is not a usable SQLite database ({text})"
    return f"database {target}: {text}"


def make_cli() -> C2MGroup:
    """A fresh root group with the core's commands (plugins add theirs on first use)."""

    @click.group(cls=C2MGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, "--version", prog_name="c2m")
    @click.option("--db", envvar=DB_ENV, default=DEFAULT_DB, show_default=True, help=DB_HELP)
    def cli(db):
        """c2m: collect wishes, aggregate variants, vote, pre-sell, hand off to the factory."""

    return cli


cli = make_cli()
