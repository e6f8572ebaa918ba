"""list_models and get_credits: what can be made, what it accepts, and what it costs."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from mcp_server_kie.catalog import CATALOG, DEFAULT_MODEL, ModelSpec, input_schema_summary
from mcp_server_kie.domain import MediaKind
from mcp_server_kie.jobs import ProviderError
from mcp_server_kie.tools.context import tool_context

USD_PER_CREDIT = 0.005


Scalar = str | int | float | bool


class Setting(BaseModel):
    allowed: list[str | int | float] | None = Field(
        default=None, description="Allowed values, if a list."
    )
    default: Scalar | list[Scalar] | None = None
    required: bool = False


class ModelInfo(BaseModel):
    id: str
    title: str
    kind: Literal["image", "video"]
    family: str = Field(description="kie.ai API family serving it.")
    description: str
    accepts: list[str] = Field(description="text, reference_images, first_frame, last_frame")
    arguments: list[str] = Field(description="Common generate_* arguments this model takes.")
    settings: dict[str, Setting] = Field(
        description="The model's own fields (usable through options), with allowed values."
    )
    credits_at_defaults: float | None = Field(
        description="Expected credits with default settings (1 credit = $0.005); null: unknown."
    )
    typical_seconds: float
    note: str | None = None


class ModelList(BaseModel):
    models: list[ModelInfo]
    count: int
    default_image_model: str
    default_video_model: str


class Credits(BaseModel):
    credits: float = Field(description="Remaining kie.ai credits.")
    usd: float = Field(description="The same in US dollars (1 credit = $0.005).")


async def list_models(
    ctx: Context,
    kind: Annotated[
        Literal["image", "video"] | None, Field(description="Only image or only video models.")
    ] = None,
) -> Annotated[CallToolResult, ModelList]:
    """List the kie.ai models this server can run: what each accepts, allowed values, defaults,
    expected price in credits and typical time. Pass a model's id as `model` to generate_*."""
    tool_context(ctx)
    specs = [s for s in CATALOG if kind is None or s.kind.value == kind]
    page = ModelList(
        models=[_info(spec) for spec in specs],
        count=len(specs),
        default_image_model=DEFAULT_MODEL[MediaKind.IMAGE],
        default_video_model=DEFAULT_MODEL[MediaKind.VIDEO],
    )
    lines = [
        f"{m.id} ({m.kind}): {m.title}; "
        + (
            f"~{m.credits_at_defaults:g} credits"
            if m.credits_at_defaults is not None
            else "price n/a"
        )
        for m in page.models
    ]
    return CallToolResult(
        content=[TextContent(type="text", text=f"{len(lines)} models:\n" + "\n".join(lines))],
        structured_content=page.model_dump(mode="json"),
    )


async def get_credits(ctx: Context) -> Credits:
    """The kie.ai account's remaining credit balance (1 credit = US$0.005)."""
    state = tool_context(ctx)
    try:
        balance = await state.engine.credits()
    except ProviderError as exc:
        raise ToolError(str(exc)) from None
    return Credits(credits=balance, usd=round(balance * USD_PER_CREDIT, 4))


def _info(spec: ModelSpec) -> ModelInfo:
    settings = {
        name: Setting(**value)
        for name, value in input_schema_summary(spec).items()
        if name != "prompt"
    }
    defaults = {name: s.default for name, s in settings.items() if s.default is not None}
    return ModelInfo(
        id=spec.id,
        title=spec.title,
        kind=spec.kind.value,
        family=spec.family.value,
        description=spec.description,
        accepts=spec.accepts,
        arguments=sorted(spec.knobs),
        settings=settings,
        credits_at_defaults=spec.price(defaults),
        typical_seconds=spec.typical_seconds,
        note=spec.note or None,
    )
