"""Categories and catalogs, and the configurator a storefront calls on each click: remaining
options, validation with explanations, repair to the nearest valid configuration."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import Field

from .common import App, Body, Configuration, scoped
from .common import router as make_router
from .scopes import PUBLIC_READ

router = make_router("catalog")
CategoryName = Annotated[str, Path(max_length=100, description="A category, e.g. `tv`")]


class Partial(Body):
    configuration: Configuration = Field(default_factory=dict)


class ToValidate(Body):
    configuration: Configuration
    complete: bool = Field(True, description="every required module must be chosen")


class ToRepair(Body):
    configuration: Configuration
    keep: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=200, description="modules that must not change"
    )


def _engine(app, category, campaign: str | None = None):
    if campaign is not None:
        return app.engine(app.campaigns.category(app.campaigns.get(campaign)))
    return app.engine(app.category(category))


@router.get("/categories", summary="Every category", openapi_extra=scoped(PUBLIC_READ))
def list_categories(app: App) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "title": category.title,
            "plugin": app.category_plugin(name),
            "currency": category.catalog.currency,
        }
        for name, category in app.categories.items()
    ]


@router.get(
    "/categories/{category}",
    summary="A category's catalog: modules, options, prices, rules",
    openapi_extra=scoped(PUBLIC_READ),
)
def get_category(app: App, category: CategoryName) -> dict[str, Any]:
    return app.category(category).catalog.to_dict()


@router.post(
    "/categories/{category}/options",
    summary="Which options remain possible after a partial configuration, and why not",
    openapi_extra=scoped(PUBLIC_READ),
)
def options(app: App, category: CategoryName, body: Partial) -> dict[str, Any]:
    return _engine(app, category).options(body.configuration).to_dict()


@router.post(
    "/categories/{category}/validate",
    summary="Every violation of a configuration, each naming its rule and options",
    openapi_extra=scoped(PUBLIC_READ),
)
def validate(app: App, category: CategoryName, body: ToValidate) -> dict[str, Any]:
    violations = app.validate(category, body.configuration, complete=body.complete)
    return {"valid": not violations, "violations": [v.to_dict() for v in violations]}


@router.post(
    "/categories/{category}/repair",
    summary="The nearest valid complete configuration (null when none exists)",
    openapi_extra=scoped(PUBLIC_READ),
)
def repair(app: App, category: CategoryName, body: ToRepair) -> dict[str, Any]:
    result = _engine(app, category).repair(body.configuration, keep=tuple(body.keep))
    return {"repair": result.to_dict() if result else None}
