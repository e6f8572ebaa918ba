"""Tools publish compact output schemas (tools/schemas.py): nested models inline, optional
fields as type lists, no titles. They must accept and refuse exactly what pydantic's schemas
do, and be the compact shape (which is what makes a client's check of each result cheaper)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st
from mcp import Client
from pydantic import BaseModel

from mcp_server_kie.server.app import build_server
from mcp_server_kie.tools.library import DeleteResult
from mcp_server_kie.tools.models import Credits, ModelDetails, ModelList
from mcp_server_kie.tools.preferences import UserSettings
from mcp_server_kie.tools.results import JobResult, MediaPage
from mcp_server_kie.tools.schemas import compact_schema
from support import sandbox_and_runtime

MODELS: list[type[BaseModel]] = [
    JobResult,
    MediaPage,
    DeleteResult,
    ModelList,
    ModelDetails,
    Credits,
    UserSettings,
]

scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.floats(0, 2) | st.text(max_size=3)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2)
    ),
    max_leaves=6,
)


def verdicts(schema: dict[str, Any], instance: object) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return sorted(error.json_path for error in validator.iter_errors(instance))


def properties_of(schema: dict[str, Any]) -> dict[str, Any]:
    return dict(schema.get("properties", {}))


def instances(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with the model's field names (and nested models' names one level down), each
    holding any JSON value, or a value of the right shape most of the time."""
    schema = model.model_json_schema()
    names = [*properties_of(schema), "unknown"]
    nested = [properties_of(d) for d in schema.get("$defs", {}).values()]
    inner_names = sorted({name for props in nested for name in props}) or ["x"]
    inner = st.dictionaries(st.sampled_from(inner_names), json_values, max_size=len(inner_names))
    value = json_values | inner | st.lists(inner, max_size=2)
    return st.dictionaries(st.sampled_from(names), value, max_size=len(names))


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_compact_schemas_accept_and_refuse_what_pydantic_s_do(data: st.DataObject) -> None:
    model = data.draw(st.sampled_from(MODELS))
    original = model.model_json_schema(mode="serialization")
    compact = compact_schema(original)
    instance = data.draw(instances(model))
    assert bool(verdicts(original, instance)) == bool(verdicts(compact, instance))


def test_a_real_result_keeps_its_verdict_field_by_field() -> None:
    """A valid get_status result, then each field set to a wrong type or to null."""
    original = JobResult.model_json_schema(mode="serialization")
    compact = compact_schema(original)
    result = {
        "job_id": "job_1",
        "status": "completed",
        "kind": "image",
        "model": "google/nano-banana",
        "prompt": "a fox",
        "outputs": [
            {
                "asset_id": "asset_1",
                "index": 0,
                "path": "/m/0.png",
                "uri": "media://asset_1",
                "mime_type": "image/png",
                "bytes": 10,
                "sha256": "ab",
                "width": 4,
                "height": None,
            }
        ],
        "error": {"category": "c", "message": "m", "retryable": False, "next_step": "n"},
        "next_step": "done",
        "created_at": "t",
        "updated_at": "t",
    }
    assert verdicts(original, result) == verdicts(compact, result) == []
    for field in [*result, "client_ref", "credits"]:
        for wrong in (None, 7, "x", {"category": 1}, [{"index": "0"}]):
            changed = {**result, field: wrong}
            assert bool(verdicts(original, changed)) == bool(verdicts(compact, changed)), (
                field,
                wrong,
            )


def test_the_compact_shape_has_no_references_alternatives_or_titles() -> None:
    compact = json.dumps(compact_schema(JobResult.model_json_schema(mode="serialization")))
    assert "$ref" not in compact and "$defs" not in compact
    assert '"anyOf"' not in compact and '"title"' not in compact
    assert '"type": ["integer", "null"]' in compact  # an optional width


def test_recursive_schemas_and_data_are_left_alone() -> None:
    recursive = {
        "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}},
        "$ref": "#/$defs/Node",
    }
    assert compact_schema(recursive) is recursive
    with_data = {
        "type": "object",
        "properties": {"title": {"type": "string", "default": {"title": "kept"}}},
    }
    assert compact_schema(with_data) == with_data  # a field named "title"; data untouched
    enum_or_null = {"anyOf": [{"type": "string", "enum": ["a"]}, {"type": "null"}]}
    assert compact_schema(enum_or_null) == enum_or_null  # merged, the enum would refuse null


async def test_every_tool_publishes_its_compact_schema(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path) as (_sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
    schema = tools["get_status"].output_schema
    assert schema == compact_schema(JobResult.model_json_schema(mode="serialization"))
    for tool in tools.values():
        assert tool.output_schema is not None
        assert "$defs" not in tool.output_schema or "$ref" in json.dumps(tool.output_schema)
