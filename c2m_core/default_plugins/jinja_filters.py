"""Default template filters: ``money`` formats integer minor units with their currency."""

from c2m_core.hookspecs import hookimpl
from c2m_core.money import format_minor


def money(amount: int, currency: str) -> str:
    """``{{ 499900|money("CNY") }}`` -> ``CNY 4,999.00``."""
    return f"{currency} {format_minor(amount, currency)}"


@hookimpl
def prepare_jinja2_environment(env):
    env.filters.setdefault("money", money)
