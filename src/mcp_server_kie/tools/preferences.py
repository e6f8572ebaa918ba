"""get_settings and update_settings: the user's defaults, kept in the database.

Defaults fill in what a generate call leaves out, and only where the chosen model takes that
setting with that value; an explicit argument always wins. The API key is not a setting here:
it lives in the environment and is never stored or shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from mcp_server_kie.catalog import allowed_values
from mcp_server_kie.catalog.spec import ModelSpec
from mcp_server_kie.domain import MediaKind, UserInputError
from mcp_server_kie.tools.context import tool_context

SettingName = Literal[
    "image_model",
    "video_model",
    "audio_model",
    "image_aspect_ratio",
    "video_aspect_ratio",
    "image_resolution",
    "video_resolution",
    "num_images",
    "video_duration",
]
_RATIO = re.compile(r"\d{1,2}:\d{1,2}|auto")
# knob -> the setting that supplies its default, per kind
_KNOB_DEFAULTS: Mapping[MediaKind, Mapping[str, str]] = {
    MediaKind.IMAGE: {
        "aspect_ratio": "image_aspect_ratio",
        "resolution": "image_resolution",
        "num_images": "num_images",
    },
    MediaKind.VIDEO: {
        "aspect_ratio": "video_aspect_ratio",
        "resolution": "video_resolution",
        "duration": "video_duration",
    },
}


class UserSettings(BaseModel):
    image_model: str | None = Field(default=None, description="Default generate_image model.")
    video_model: str | None = Field(default=None, description="Default generate_video model.")
    audio_model: str | None = Field(default=None, description="Default generate_audio model.")
    image_aspect_ratio: str | None = None
    video_aspect_ratio: str | None = None
    image_resolution: str | None = None
    video_resolution: str | None = None
    num_images: int | None = Field(default=None, description="Images per request.")
    video_duration: int | None = Field(default=None, description="Video length in seconds.")


async def get_settings(ctx: Context) -> Annotated[CallToolResult, UserSettings]:
    """Show the user's saved defaults for generate_image, generate_video and generate_audio
    (unset: the model's own defaults apply)."""
    state = tool_context(ctx)
    return _result(
        UserSettings.model_validate(await state.engine.store.preferences()), "Current defaults"
    )


async def update_settings(
    ctx: Context,
    image_model: Annotated[str | None, Field(description="Default image model id.")] = None,
    video_model: Annotated[str | None, Field(description="Default video model id.")] = None,
    audio_model: Annotated[str | None, Field(description="Default audio model id.")] = None,
    image_aspect_ratio: Annotated[str | None, Field(description="e.g. 1:1, 16:9")] = None,
    video_aspect_ratio: Annotated[str | None, Field(description="e.g. 16:9, 9:16")] = None,
    image_resolution: Annotated[str | None, Field(description="e.g. 1K, 2K")] = None,
    video_resolution: Annotated[str | None, Field(description="e.g. 720p, 1080p")] = None,
    num_images: Annotated[int | None, Field(ge=1, le=10, description="1-10")] = None,
    video_duration: Annotated[int | None, Field(ge=1, le=60, description="Seconds")] = None,
    reset: Annotated[
        list[SettingName] | None, Field(description="Settings to clear back to model defaults.")
    ] = None,
) -> Annotated[CallToolResult, UserSettings]:
    """Save defaults that generate_image, generate_video and generate_audio use when an
    argument is left out.

    Only what you pass changes; reset clears settings. A default is used only with models
    that accept that value.
    """
    state = tool_context(ctx)
    changes: dict[str, Any] = {
        name: value
        for name, value in {
            "image_model": image_model,
            "video_model": video_model,
            "audio_model": audio_model,
            "image_aspect_ratio": image_aspect_ratio,
            "video_aspect_ratio": video_aspect_ratio,
            "image_resolution": image_resolution,
            "video_resolution": video_resolution,
            "num_images": num_images,
            "video_duration": video_duration,
        }.items()
        if value is not None
    }
    try:
        for kind in MediaKind:
            model = changes.get(f"{kind.value}_model")
            if model is not None:
                state.catalogue.get_model(model, kind)  # raises naming where to find models
        for name in ("image_aspect_ratio", "video_aspect_ratio"):
            if name in changes and not _RATIO.fullmatch(changes[name]):
                raise UserInputError(f"{name} must look like 16:9 (or auto).")
        clash = set(reset or ()) & set(changes)
        if clash:
            raise UserInputError(f"Both set and reset: {', '.join(sorted(clash))}.")
    except UserInputError as exc:
        raise ToolError(str(exc)) from None
    changes.update(dict.fromkeys(reset or ()))
    if not changes:
        raise ToolError("Nothing to change: pass a setting or reset.")
    await state.engine.store.set_preferences(changes)
    return _result(
        UserSettings.model_validate(await state.engine.store.preferences()), "Saved. Defaults"
    )


def default_model(preferences: Mapping[str, Any], kind: MediaKind) -> str | None:
    value = preferences.get(f"{kind.value}_model")
    return value if isinstance(value, str) else None


def apply_defaults(
    preferences: Mapping[str, Any], spec: ModelSpec, knobs: dict[str, Any]
) -> dict[str, Any]:
    """``knobs`` with the saved defaults filled in where not given and the model takes them."""
    filled = dict(knobs)
    for knob, setting in _KNOB_DEFAULTS.get(spec.kind, {}).items():
        value = preferences.get(setting)
        field_name = spec.knobs.get(knob)
        if value is None or filled.get(knob) is not None or field_name is None:
            continue
        accepted = allowed_values(spec, field_name)
        if not accepted or value in accepted or str(value) in accepted:
            filled[knob] = value
    return filled


def _result(settings: UserSettings, heading: str) -> CallToolResult:
    shown = settings.model_dump(exclude_none=True)
    text = f"{heading}: " + (
        ", ".join(f"{k}={v}" for k, v in shown.items()) or "none set (model defaults)"
    )
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=settings.model_dump(mode="json"),
    )
