"""Which offered models can do an operation on a source, and which field the source fills:
read from the committed catalogue's capabilities and input schemas."""

from __future__ import annotations

import pytest

from mcp_server_kie.catalog import COMMITTED, ModelSpec
from mcp_server_kie.catalog.operations import (
    OPERATIONS,
    TASK,
    capable_models,
    continues_task_of,
    find_operation,
    source_fields,
)
from mcp_server_kie.domain import MediaKind, UserInputError


def spec(model_id: str) -> ModelSpec:
    found = COMMITTED.find(model_id)
    assert found is not None, model_id
    return found


def ids(operation: str, kind: MediaKind) -> set[str]:
    return {s.id for s in capable_models(COMMITTED.specs, find_operation(operation), kind)}


def test_every_operation_has_an_offered_model_for_each_kind_it_names() -> None:
    for op in OPERATIONS.values():
        for kind in op.capability:
            assert ids(op.name, kind), (op.name, kind)


@pytest.mark.parametrize(
    ("model", "media", "field", "is_list"),
    [
        ("recraft/crisp-upscale", "image", "image", False),
        ("topaz/image-upscale", "image", "image_url", False),
        ("google/nano-banana-edit", "image", "image_urls", True),
        ("topaz/video-upscale", "video", "video_url", False),
        ("wan/2-6-video-to-video", "video", "video_urls", True),
        ("grok-imagine/extend", TASK, "task_id", False),
        ("elevenlabs/audio-isolation", "audio", "audio_url", False),
    ],
)
def test_the_source_fills_the_field_the_schema_names(
    model: str, media: str, field: str, is_list: bool
) -> None:
    fields = source_fields(spec(model), [media])
    assert fields is not None
    assert (fields[media].name, fields[media].is_list) == (field, is_list)


def test_a_model_needing_more_than_the_sources_is_not_offered_for_them() -> None:
    edits = ids("edit", MediaKind.IMAGE)
    assert "ideogram/v3-edit" not in edits  # needs a mask drawn for the image
    assert "ideogram/character-edit" not in edits
    assert "google/nano-banana" not in edits  # text-to-image only: no image field
    assert source_fields(spec("grok-imagine/extend"), ["video"]) is None  # a task id only
    assert "kling-2.6/motion-control" not in ids("edit", MediaKind.VIDEO)  # also an image
    lip = source_fields(spec("kling/ai-avatar-standard"), ["image", "audio"])
    assert lip is not None and lip["audio"].name == "audio_url"
    assert source_fields(spec("kling/ai-avatar-standard"), ["image"]) is None


def test_a_task_id_continues_only_its_own_model_line() -> None:
    extend = spec("grok-imagine/extend")
    assert continues_task_of(extend, "grok-imagine/text-to-video", "market")
    assert not continues_task_of(extend, "kling-2.6/text-to-video", "market")
    assert not continues_task_of(extend, "grok-imagine/x", "veo")


def test_an_unknown_operation_names_the_allowed_ones() -> None:
    with pytest.raises(UserInputError, match="upscale, remove-background, edit, extend"):
        find_operation("sharpen")
    assert find_operation(" Upscale ").name == "upscale"
