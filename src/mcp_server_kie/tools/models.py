"""list_models, describe_model and get_credits: what can be made, what it takes and costs."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from mcp_server_kie.catalog import (
    CATALOG,
    DEFAULT_MODEL,
    RETIRED,
    ModelSpec,
    input_schema_summary,
)
from mcp_server_kie.domain import MediaKind
from mcp_server_kie.jobs import ProviderError
from mcp_server_kie.tools.context import tool_context

USD_PER_CREDIT = 0.005
PAGE_SIZE = 40
_KINDS = ", ".join(kind.value for kind in MediaKind)
_CAPABILITIES = sorted({c for spec in CATALOG for c in spec.capabilities})


Scalar = str | int | float | bool


class ModelLine(BaseModel):
    id: str
    kind: str
    title: str
    capabilities: list[str]
    credits_at_defaults: float | None = Field(
        description="Expected credits with default settings (1 credit = $0.005); null: unknown."
    )


class ModelList(BaseModel):
    models: list[ModelLine]
    count: int = Field(description="Models matching the filters (all pages).")
    offset: int
    next_offset: int | None = Field(description="Pass as offset for the next page; null: done.")
    defaults: dict[str, str] = Field(description="The default model of each media kind.")


class Setting(BaseModel):
    type: str | None = None
    allowed: list[Scalar] | None = Field(default=None, description="Allowed values, if a list.")
    default: Scalar | list[Scalar] | None = None
    required: bool = False
    limits: dict[str, float] | None = None


class Price(BaseModel):
    by: list[str] = Field(description="The fields the price depends on.")
    per: str = Field(description="What one price buys: task, second or 1000 characters.")
    credits: dict[str, float] = Field(description="value|value -> credits.")


class ModelDetails(BaseModel):
    id: str
    title: str
    kind: str
    family: str = Field(description="kie.ai API family serving it.")
    capabilities: list[str]
    arguments: dict[str, str] = Field(
        description="Common generate_* arguments this model takes -> the field each one sets."
    )
    settings: dict[str, Setting] = Field(
        description="The model's own fields (pass any through options), with allowed values."
    )
    price: Price | None = Field(description="Credits per variant. Null: price unknown.")
    credits_at_defaults: float | None
    typical_seconds: float
    doc_url: str


class Credits(BaseModel):
    credits: float = Field(description="Remaining kie.ai credits.")
    usd: float = Field(description="The same in US dollars (1 credit = $0.005).")


async def list_models(
    ctx: Context,
    kind: Annotated[str | None, Field(description=f"Only this media kind: {_KINDS}.")] = None,
    capability: Annotated[
        str | None, Field(description=f"Only models that can do this: {', '.join(_CAPABILITIES)}.")
    ] = None,
    query: Annotated[
        str | None, Field(description="Words to find in the id or title, e.g. 'kling' or 'veo'.")
    ] = None,
    offset: Annotated[int, Field(ge=0, description="Skip this many matches (paging).")] = 0,
    limit: Annotated[int, Field(ge=1, le=200, description="Models per page.")] = PAGE_SIZE,
) -> Annotated[CallToolResult, ModelList]:
    """List the kie.ai models this server can run, one compact line each: id, kind, what it
    can do, expected credits at its defaults. Filter by kind, capability or words; page with
    offset. Call describe_model(model) for one model's fields, allowed values and prices, then
    pass its id as `model` to generate_*."""
    catalogue = tool_context(ctx).catalogue
    if kind is not None and kind not in {k.value for k in MediaKind}:
        raise ToolError(f"kind must be one of {_KINDS} (got {kind!r}).")
    if capability is not None and capability not in _CAPABILITIES:
        raise ToolError(f"capability must be one of {', '.join(_CAPABILITIES)}.")
    words = (query or "").lower().split()
    matches = [
        spec
        for spec in catalogue.specs
        if (kind is None or spec.kind.value == kind)
        and (capability is None or capability in spec.capabilities)
        and all(w in f"{spec.id} {spec.title}".lower() for w in words)
    ]
    page = matches[offset : offset + limit]
    end = offset + len(page)
    listing = ModelList(
        models=[_line(spec) for spec in page],
        count=len(matches),
        offset=offset,
        next_offset=end if end < len(matches) else None,
        defaults={k.value: v for k, v in DEFAULT_MODEL.items()},
    )
    lines = [
        f"{m.id} ({m.kind}; {', '.join(m.capabilities)}): "
        + (
            f"~{m.credits_at_defaults:g} credits"
            if m.credits_at_defaults is not None
            else "price unknown"
        )
        for m in listing.models
    ]
    more = f" Next page: offset={listing.next_offset}." if listing.next_offset else ""
    head = f"{len(page)} of {len(matches)} models (offset {offset}).{more}"
    return CallToolResult(
        content=[TextContent(type="text", text=head + "\n" + "\n".join(lines))],
        structured_content=listing.model_dump(mode="json"),
    )


async def describe_model(
    ctx: Context,
    model: Annotated[str, Field(description="A model id from list_models.")],
) -> Annotated[CallToolResult, ModelDetails]:
    """One model's full input description: its fields with allowed values, defaults and limits,
    which generate_* arguments set which field, its prices per variant, typical time and
    kie.ai's documentation page. Fields not covered by an argument go in `options`."""
    spec = tool_context(ctx).catalogue.find(model)
    if spec is None:
        reason = RETIRED.get(model)
        raise ToolError(
            f"{model!r} is no longer offered: {reason}."
            if reason
            else f"Unknown model {model!r}. Call list_models(query=...) to find one."
        )
    settings = {name: Setting(**value) for name, value in input_schema_summary(spec).items()}
    details = ModelDetails(
        id=spec.id,
        title=spec.title,
        kind=spec.kind.value,
        family=spec.family.value,
        capabilities=list(spec.capabilities),
        arguments=dict(spec.knobs),
        settings=settings,
        price=Price.model_validate(dict(spec.pricing)) if spec.pricing else None,
        credits_at_defaults=spec.price({}),
        typical_seconds=spec.typical_seconds,
        doc_url=spec.doc_url,
    )
    return CallToolResult(
        content=[TextContent(type="text", text=_describe_text(details))],
        structured_content=details.model_dump(mode="json"),
    )


def _describe_text(details: ModelDetails) -> str:
    fields = []
    for name, s in details.settings.items():
        parts = [s.type or "any"]
        if s.allowed:
            shown = ", ".join(map(str, s.allowed[:12])) + (" ..." if len(s.allowed) > 12 else "")
            parts.append(f"one of {shown}")
        if s.default is not None:
            parts.append(f"default {s.default}")
        if s.required:
            parts.append("required")
        fields.append(f"- {name}: {'; '.join(parts)}")
    price = (
        f"{details.credits_at_defaults:g} credits at defaults"
        if details.credits_at_defaults is not None
        else "price unknown"
    )
    return (
        f"{details.id} ({details.kind}, {details.family}): {details.title}. {price}; "
        f"~{details.typical_seconds:g} s. Docs: {details.doc_url}\n" + "\n".join(fields)
    )


async def get_credits(ctx: Context) -> Credits:
    """The kie.ai account's remaining credit balance (1 credit = US$0.005)."""
    state = tool_context(ctx)
    try:
        balance = await state.engine.credits()
    except ProviderError as exc:
        raise ToolError(str(exc)) from None
    return Credits(credits=balance, usd=round(balance * USD_PER_CREDIT, 4))


def _line(spec: ModelSpec) -> ModelLine:
    return ModelLine(
        id=spec.id,
        kind=spec.kind.value,
        title=spec.title,
        capabilities=list(spec.capabilities),
        credits_at_defaults=spec.price({}),
    )
