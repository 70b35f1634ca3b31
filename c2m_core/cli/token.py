"""``c2m token``: API tokens for ``c2m serve`` (stored hashed; shown once)."""

from __future__ import annotations

import click

from ..server.scopes import SCOPES
from ..server.tokens import create_token, list_tokens, revoke_token
from .context import app_from
from .output import echo_json, echo_table, json_option


@click.group()
def token():
    """Create, list and revoke API tokens for `c2m serve`."""


@token.command()
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(SCOPES),
    help="brand: everything; storefront: wishes, ballots, pledges and public reads; "
    "read: every read. Repeat for several.",
)
@json_option
def create(name, scopes, as_json):
    """Create token NAME and print it once (only its hash is stored)."""
    text, made = create_token(app_from(), name, scopes)
    if as_json:
        echo_json(made.to_dict() | {"token": text})
        return
    click.echo(text)
    click.echo(
        f"token {made.id} ({made.name}, scopes {', '.join(made.scopes)}): keep it now, it is "
        "not shown again",
        err=True,
    )


@token.command("list")
@json_option
def list_(as_json):
    """List tokens (never their secrets)."""
    tokens = list_tokens(app_from())
    if as_json:
        echo_json([t.to_dict() for t in tokens])
        return
    rows = [
        (t.id, t.name, f"c2m_{t.prefix}_...", ",".join(t.scopes), t.created_at, t.revoked_at or "")
        for t in tokens
    ]
    echo_table(rows, ["id", "name", "token", "scopes", "created", "revoked"])


@token.command()
@click.argument("token_id", type=int)
def revoke(token_id):
    """Revoke token TOKEN_ID (see `c2m token list`); requests with it get 401 at once."""
    revoked = revoke_token(app_from(), token_id)
    click.echo(f"token {revoked.id} ({revoked.name}) revoked at {revoked.revoked_at}")
