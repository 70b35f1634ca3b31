"""Campaigns: one category, the stages it uses, its settings, and an explicit state machine.

States run ``draft``, then each stage the campaign uses in the fixed order of ``STAGES``, then
``closed``. Every transition is explicit and recorded; opening (leaving ``draft``) freezes a
snapshot of the category's catalog so a plugin upgrade never changes a running campaign.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import attrs

from .catalog import ID_PATTERN, Catalog
from .category import Category
from .errors import C2MError, InvalidInput
from .money import check_currency

STAGES = ("wishes", "vote", "presale", "handoff")
DRAFT = "draft"
CLOSED = "closed"

# Setting name -> (default, minimum, help). Stages add theirs here.
SETTINGS = {
    "max_variants": (5, 1, "the most variants aggregation may choose"),
    "moq": (1, 1, "minimum batch: the fewest units a variant must cover to be produced"),
    "spare_percent": (0, 0, "extra units to produce, in percent of the confirmed (rounded up)"),
    "assembly_days": (2, 0, "days of assembly and test after the last part arrives"),
    "max_lot_size": (0, 0, "line capacity: the most units in one work order (0: no limit)"),
    "warehouses": ({}, None, "region -> warehouse code; key 'default' for the rest"),
}
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}\Z")


class UnknownCampaign(InvalidInput):
    """No campaign has this slug."""

    def __init__(self, slug: str):
        self.slug = slug
        super().__init__(f"no campaign {slug!r}; `c2m campaign list` shows the campaigns")


class IllegalTransition(C2MError):
    """The campaign is not in a state that allows what was asked."""


@attrs.frozen
class Campaign:
    """A campaign as stored. ``state`` is ``draft``, one of its ``stages``, or ``closed``."""

    id: int | None
    slug: str
    category: str
    title: str
    currency: str
    stages: tuple[str, ...]
    settings: Mapping = attrs.field(factory=dict)
    state: str = DRAFT
    catalog_frozen: bool = False
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def states(self) -> tuple[str, ...]:
        return (DRAFT, *self.stages, CLOSED)

    @property
    def next_state(self) -> str | None:
        states = self.states
        index = states.index(self.state)
        return states[index + 1] if index + 1 < len(states) else None

    def setting(self, name: str):
        return self.settings.get(name, SETTINGS[name][0] if name in SETTINGS else None)

    def to_dict(self) -> dict:
        data = attrs.asdict(self)
        data["stages"] = list(self.stages)
        data["settings"] = {name: self.setting(name) for name in SETTINGS} | dict(self.settings)
        return data


def check_stages(stages: Iterable[str]) -> tuple[str, ...]:
    """Return the stages in their fixed order; reject unknown, repeated or no stages."""
    stages = list(stages)
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise InvalidInput(
            f"unknown stage {unknown[0]!r}; stages are {', '.join(STAGES)} (in that order)"
        )
    if len(set(stages)) != len(stages):
        raise InvalidInput(f"stages repeat: {', '.join(stages)}")
    if not stages:
        raise InvalidInput(f"a campaign needs at least one stage of {', '.join(STAGES)}")
    return tuple(s for s in STAGES if s in stages)


def check_settings(settings: Mapping) -> dict:
    """Check known settings are integers within range; reject unknown names."""
    checked = {}
    for name, value in settings.items():
        if name not in SETTINGS:
            raise InvalidInput(
                f"unknown campaign setting {name!r}; settings are {', '.join(sorted(SETTINGS))}"
            )
        default, minimum, _ = SETTINGS[name]
        if isinstance(default, dict):
            items = value.items() if isinstance(value, Mapping) else [("", value)]
            for key, code in items:
                if not (key and isinstance(key, str) and isinstance(code, str)) or not (
                    CODE_PATTERN.match(code)
                ):
                    raise InvalidInput(
                        f"setting {name}: {key!r} -> {code!r} is not accepted; map names to codes "
                        "of up to 32 letters, digits, '-' and '_', starting with a letter or digit"
                    )
            checked[name] = dict(value)
            continue
        if isinstance(default, int) and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidInput(f"setting {name} must be an integer, got {value!r}")
        if minimum is not None and value < minimum:
            raise InvalidInput(f"setting {name} must be at least {minimum}, got {value}")
        checked[name] = value
    return checked


class CampaignService:
    """Create, read and advance campaigns. Reached as ``app.campaigns``."""

    def __init__(self, app):
        self.app = app

    @property
    def _store(self):
        return self.app.store

    def create(
        self,
        slug: str,
        category: str,
        title: str | None = None,
        currency: str | None = None,
        stages: Iterable[str] = STAGES,
        settings: Mapping | None = None,
    ) -> Campaign:
        """Create a campaign in ``draft``. The slug must be new."""
        if not isinstance(slug, str) or not ID_PATTERN.match(slug) or len(slug) > 64:
            raise InvalidInput(
                f"campaign slug {slug!r} is not valid: use up to 64 lower-case letters, digits, "
                "'-' and '_', starting with a letter or digit"
            )
        cat = self.app.category(category)
        if currency is None:
            currency = cat.catalog.currency
        try:
            check_currency(currency)
        except ValueError as ex:
            raise InvalidInput(f"currency: {ex}") from None
        campaign = Campaign(
            id=None,
            slug=slug,
            category=cat.name,
            title=title or slug,
            currency=currency,
            stages=check_stages(stages),
            settings=check_settings(settings or {}),
        )
        store = self._store
        with store.transaction():
            if store.campaigns.get(slug) is not None:
                raise InvalidInput(f"campaign {slug!r} already exists; choose another slug")
            campaign = store.campaigns.insert(campaign)
            store.event("campaign.created", campaign.id, campaign.to_dict())
        return campaign

    def get(self, slug: str) -> Campaign:
        """The campaign ``slug``; ``UnknownCampaign`` if there is none."""
        campaign = self._store.campaigns.get(slug)
        if campaign is None:
            raise UnknownCampaign(slug)
        return campaign

    def list(self) -> list[Campaign]:
        return self._store.campaigns.all()

    def category(self, campaign: Campaign) -> Category:
        """The campaign's category with its frozen catalog (the live one while in draft)."""
        live = self.app.category(campaign.category)
        digest = self._store.campaigns.catalog_digest(campaign.id)
        if digest is None:
            return live
        # Snapshots never change and are named by their content, so parse each one once.
        frozen_catalogs = self.app.caches.setdefault("frozen_catalogs", {})
        frozen = frozen_catalogs.get(digest)
        if frozen is None:
            data = self._store.campaigns.catalog_data(campaign.id)
            frozen = Catalog.from_dict(data, source=f"catalog snapshot {digest[:12]}")
            frozen_catalogs[digest] = frozen
        return attrs.evolve(live, catalog=frozen)

    def catalog(self, campaign: Campaign) -> Catalog:
        """The campaign's frozen catalog (the category's live one while in draft)."""
        return self.category(campaign).catalog

    def configure(self, slug: str, **settings) -> Campaign:
        """Change settings of a campaign that has not closed."""
        checked = check_settings(settings)
        store = self._store
        with store.transaction():
            campaign = self.get(slug)
            if campaign.state == CLOSED:
                raise IllegalTransition(f"campaign {slug!r} is closed; settings can't change")
            store.campaigns.update_settings(campaign.id, dict(campaign.settings) | checked)
            store.event("campaign.configured", campaign.id, {"settings": checked})
        return self.get(slug)

    def require_state(self, campaign: Campaign, *states: str) -> None:
        """Raise ``IllegalTransition`` unless the campaign is in one of ``states``."""
        if campaign.state not in states:
            raise IllegalTransition(
                f"campaign {campaign.slug!r} is in state {campaign.state!r}; this needs "
                f"{' or '.join(map(repr, states))}"
            )

    def advance(self, slug: str, to: str | None = None) -> Campaign:
        """Move the campaign to its next state (``to``, when given, must be that state).

        Plugins may refuse through ``validate_campaign_advance``; ``campaign_advanced`` is
        called after the change is committed.
        """
        store = self._store
        with store.transaction():
            campaign = self.get(slug)
            target = campaign.next_state
            if target is None or (to is not None and to != target):
                allowed = f"the only next state is {target!r}" if target else "it has ended"
                raise IllegalTransition(
                    f"campaign {slug!r} is in state {campaign.state!r} and cannot move to "
                    f"{to or 'a next state'!r}: {allowed}"
                )
            problems = [
                problem
                for result in self.app.pm.hook.validate_campaign_advance(
                    app=self.app, campaign=campaign, target=target
                )
                for problem in result or ()
            ]
            if problems:
                raise IllegalTransition(
                    f"campaign {slug!r} cannot move from {campaign.state!r} to {target!r}: "
                    + "; ".join(problems)
                )
            if campaign.state == DRAFT:
                cat = self.app.category(campaign.category).catalog
                store.campaigns.freeze_catalog(campaign.id, cat.id, cat.digest, cat.to_dict())
            store.campaigns.set_state(campaign.id, campaign.state, target)
            store.event("campaign.advanced", campaign.id, {"from": campaign.state, "to": target})
        advanced = self.get(slug)
        self.app.pm.hook.campaign_advanced(app=self.app, campaign=advanced, previous=campaign.state)
        return advanced
