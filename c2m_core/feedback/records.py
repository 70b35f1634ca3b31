"""Feedback records: a buyer's feedback on a delivered variant, routing rules, and a route."""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs

FALLBACK_DEPARTMENT = "customer_service"
MAX_TEXT = 5000
MAX_TAGS = 20
MAX_TAG = 40


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen
class FeedbackRule:
    """Route feedback whose text has one of ``keywords`` or whose tags have one of ``tags``.

    ``module`` (optional) says the feedback names that catalog module, and ``option`` the option
    a next campaign should wish for instead (for example "too dim" -> backlight, mini-led).
    Keywords match case-insensitively, as whole words for Latin text, anywhere for other scripts.
    """

    id: str
    department: str
    keywords: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    tags: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    module: str | None = None
    option: str | None = None

    def matches_text(self, text: str) -> bool:
        lowered = text.casefold()
        return any(_contains(lowered, keyword.casefold()) for keyword in self.keywords)

    def matches_tags(self, tags) -> bool:
        wanted = {t.casefold() for t in self.tags}
        return any(t.casefold() in wanted for t in tags)

    def matches(self, text: str, tags) -> bool:
        return self.matches_tags(tags) or self.matches_text(text)

    def to_dict(self) -> dict:
        return attrs.asdict(self)


def _contains(text: str, keyword: str) -> bool:
    if keyword.isascii():
        return re.search(rf"(?<![a-z0-9]){re.escape(keyword)}(?![a-z0-9])", text) is not None
    return keyword in text


@attrs.frozen
class FeedbackRoute:
    """Where a piece of feedback goes: a department, the module it names (if any), the rule."""

    department: str
    module: str | None = None
    option: str | None = None
    rule: str | None = None


@attrs.frozen
class Feedback:
    """A buyer's feedback on a variant, as stored with its route."""

    id: int | None
    campaign_id: int
    variant_id: int
    customer: str
    text: str
    rating: int | None = None
    tags: tuple[str, ...] = ()
    department: str = FALLBACK_DEPARTMENT
    module: str | None = None
    option: str | None = None
    rule: str | None = None
    created_at: str | None = None

    def to_dict(self) -> dict:
        data = attrs.asdict(self)
        data["tags"] = list(self.tags)
        return data
