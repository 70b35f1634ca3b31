"""Token scopes and which routes each one reaches.

- ``brand``: everything (the brand team's own tools).
- ``storefront``: wishes, ballots and pledges, and reads of public campaign data.
- ``read``: every read, nothing else (dashboards, reporting).

A route names the scopes that may call it; a token with none of them gets 403.
"""

from __future__ import annotations

BRAND = "brand"
STOREFRONT = "storefront"
READ = "read"
SCOPES = (BRAND, STOREFRONT, READ)

#: Reads of public campaign data (catalogs, campaigns, variants, offers, results).
PUBLIC_READ = frozenset(SCOPES)
#: Reads of the brand team's data (events, deliveries, reports, every pledge).
PRIVATE_READ = frozenset({BRAND, READ})
#: What a storefront does for its customers (wishes, ballots, pledges).
CUSTOMER_WRITE = frozenset({BRAND, STOREFRONT})
#: Everything else: running the campaign.
BRAND_ONLY = frozenset({BRAND})


def check_scopes(scopes) -> tuple[str, ...]:
    """The scopes, checked and de-duplicated in canonical order; ``InvalidInput`` otherwise."""
    from ..errors import InvalidInput

    wanted = list(scopes)
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown or not wanted:
        raise InvalidInput(
            f"scope {unknown[0] if unknown else ''!r} is not a scope; scopes: {', '.join(SCOPES)}",
            field="scope",
            value=unknown[0] if unknown else None,
            accepted=", ".join(SCOPES),
        )
    return tuple(s for s in SCOPES if s in wanted)
