"""``c2m reward``: reward rules, payouts, the ledger, the showcase, share codes and referrals."""

from __future__ import annotations

import click

from ..money import Money
from .context import app_from
from .output import echo_json, echo_table, json_option


@click.group()
def reward():
    """Designer rewards, share codes and referrals of a campaign."""


@reward.command("rule")
@click.argument("slug")
@click.option("--fixed", "fixed", help="Pool per tipped variant, in major units (e.g. 500).")
@click.option("--share", "share", help="Pool as a share of each tipped variant's deposits (5%).")
@click.option("--referral", help="Reward per referred unit, in major units.")
@click.option("--referral-limit", type=int, help="Most pledges one share code counts.")
@click.option("--provider", default="ledger", show_default=True, help="Payment provider.")
@json_option
def rule_command(slug, fixed, share, referral, referral_limit, provider, as_json):
    """Set how SLUG rewards the designers of tipped variants (and referrers)."""
    from ..errors import InvalidInput

    app = app_from()
    currency = app.campaigns.get(slug).currency

    def money(text, field):
        try:
            return Money.parse(text, currency).amount
        except ValueError as ex:
            raise InvalidInput(f"{field}: {ex}", field=field, value=text) from None

    if (fixed is None) == (share is None):
        raise click.UsageError("give one of --fixed AMOUNT or --share PERCENT")
    kwargs = {"provider": provider, "referral_limit": referral_limit}
    if referral is not None:
        kwargs["referral_per_unit"] = money(referral, "referral")
    if fixed is not None:
        rule = app.rewards.set_rule(slug, kind="fixed", amount=money(fixed, "fixed"), **kwargs)
    else:
        text = share.strip().removesuffix("%")
        try:
            basis_points = round(float(text) * 100)
        except ValueError:
            raise InvalidInput(
                f"share: {share!r} is not a percentage; use e.g. 5% or 2.5%",
                field="share",
                value=share,
            ) from None
        rule = app.rewards.set_rule(slug, kind="share", basis_points=basis_points, **kwargs)
    if as_json:
        echo_json(rule.to_dict())
    else:
        click.echo(f"{slug}: {rule.describe()}")


@reward.command("pay")
@click.argument("slug")
@json_option
def pay_command(slug, as_json):
    """Record and pay every reward due (safe to run again: each is paid once)."""
    report = app_from().rewards.pay(slug)
    if as_json:
        echo_json(report.to_dict())
        return
    click.echo(
        f"{slug}: {report.recorded} reward(s) recorded, {report.paid} paid now, "
        f"{report.failed} failed; paid in total {report.paid_total}"
    )
    if report.failed:
        raise click.ClickException(f"{report.failed} payout(s) failed; run c2m reward pay again")


@reward.command("ledger")
@click.argument("slug")
@json_option
def ledger_command(slug, as_json):
    """Every recorded reward with its state."""
    rewards = app_from().rewards.ledger(slug)
    if as_json:
        echo_json([r.to_dict() for r in rewards])
        return
    echo_table(
        [(r.id, r.kind, f"V{r.variant_id}", r.recipient, r.units, str(r.amount), r.state)
         for r in rewards],
        ["id", "kind", "variant", "recipient", "units", "amount", "state"],
    )  # fmt: skip


@reward.command("showcase")
@click.argument("slug")
@click.option("--top", type=click.IntRange(1, 100), default=5, show_default=True)
@json_option
def showcase_command(slug, top, as_json):
    """The campaign's top designs by units pledged, with their designers."""
    entries = app_from().rewards.showcase(slug, top)
    if as_json:
        echo_json([e.to_dict() for e in entries])
        return
    echo_table(
        [(f"V{e.variant_id}", e.name, e.state, e.units_pledged,
          ", ".join(f"{c} ({u})" for c, u in e.designers)) for e in entries],
        ["variant", "name", "state", "units", "designers (wished units)"],
    )  # fmt: skip


@reward.command("share")
@click.argument("slug")
@click.option("--customer", required=True)
@click.option("--variant", "variant_id", type=int, required=True)
@json_option
def share_command(slug, customer, variant_id, as_json):
    """The customer's share code for a variant (the same every time)."""
    code = app_from().rewards.share(slug, customer, variant_id)
    echo_json(code.to_dict()) if as_json else click.echo(code.code)


@reward.command("visit")
@click.argument("code")
@click.option("--visitor", help="Who opened the link (the shop's reference).")
def visit_command(code, visitor):
    """Record a visit through a share code (shops call this when a shared link opens)."""
    app_from().rewards.visit(code, visitor)


@reward.command("attribute")
@click.argument("slug")
@click.option("--pledge", "pledge_key", required=True, help="The pledge's idempotency key.")
@click.option("--code", required=True)
@json_option
def attribute_command(slug, pledge_key, code, as_json):
    """Attribute a placed pledge to a share code later (once; no self-referral; the limit).

    A pledge placed with its code is attributed as it is placed: `c2m pledge add ... --code`."""
    attribution = app_from().rewards.attribute(slug, pledge_key, code)
    if as_json:
        echo_json(attribution.to_dict())
    else:
        click.echo(f"pledge {pledge_key} referred by {attribution.referrer}")


@reward.command("funnel")
@click.argument("slug")
@json_option
def funnel_command(slug, as_json):
    """Shares -> visits -> referred pledges, per variant."""
    rows = app_from().rewards.funnel(slug)
    if as_json:
        echo_json([r.to_dict() for r in rows])
        return
    echo_table(
        [(f"V{r.variant_id}", r.shares, r.visits, r.pledges, r.units) for r in rows],
        ["variant", "shares", "visits", "pledges", "units"],
    )
