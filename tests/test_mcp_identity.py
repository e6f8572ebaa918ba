"""What the MCP SDK needs identical on every replica comes from configuration: the server's
name (KIE_MCP_SERVER_NAME, also the audience sealed into request state) and the keys sealing
the 2026-07-28 multi-round-trip ``requestState`` (KIE_REQUEST_STATE_KEYS). A client whose
first round went to replica A and whose retry lands on replica B is served only when both
replicas were configured alike."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp.types import GetPromptResult, InputRequiredResult, TextContent
from pydantic import ValidationError

from mcp_server_kie.config import Settings
from mcp_server_kie.server.app import build_server
from mcp_server_kie.server.runtime import Runtime
from support import sandbox_and_runtime

KEY_A = secrets.token_hex(32)
KEY_B = secrets.token_hex(32)


@asynccontextmanager
async def runtime_for(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with sandbox_and_runtime(tmp_path, webhooks=False) as (_sandbox, runtime):
        yield runtime


def replica(runtime: Runtime, **settings: str) -> MCPServer:
    """One replica's MCP server, built from these KIE_* settings, with one extra two-round
    prompt: the first round asks for input and seals its state, the retry reads it back."""
    server = build_server(runtime.tools, Settings.model_validate(settings))

    @server.prompt(name="two_rounds")
    def two_rounds(ctx: Context) -> InputRequiredResult | str:
        if ctx.request_state is None:
            return InputRequiredResult(request_state="round one was here")
        return f"resumed: {ctx.request_state}"

    return server


async def first_round(server: MCPServer) -> str:
    async with Client(server) as client:
        asked = await client.session.get_prompt("two_rounds", allow_input_required=True)
    assert isinstance(asked, InputRequiredResult) and asked.request_state
    assert "round one" not in asked.request_state  # sealed: the client cannot read it
    return asked.request_state


async def retry(server: MCPServer, state: str) -> str:
    """The prompt's text, or ``refused: <the error>``."""
    async with Client(server) as client:
        try:
            result = await client.session.get_prompt("two_rounds", request_state=state)
        except MCPError as exc:
            return f"refused: {exc}"
    assert isinstance(result, GetPromptResult)
    content = result.messages[0].content
    assert isinstance(content, TextContent)
    return content.text


async def test_replicas_configured_alike_resume_each_others_rounds(tmp_path: Path) -> None:
    shared = {"mcp_server_name": "kie-team", "request_state_keys": f"{KEY_A},{KEY_B}"}
    async with runtime_for(tmp_path) as runtime:
        one, two = replica(runtime, **shared), replica(runtime, **shared)
        state = await first_round(one)
        resumed = await retry(two, state)
        async with Client(two) as client:
            name = client.server_info.name if client.server_info else None
        # Rotation: a replica already sealing with the new key still reads the old key's state.
        rotated = replica(
            runtime, mcp_server_name="kie-team", request_state_keys=f"{KEY_B},{KEY_A}"
        )
        after_rotation = await retry(rotated, state)
    assert resumed == after_rotation == "resumed: round one was here"
    assert name == "kie-team"


@pytest.mark.parametrize(
    "other",
    [
        {"mcp_server_name": "kie-team"},  # no keys: a key only that process knows
        {"mcp_server_name": "kie-team", "request_state_keys": KEY_B},  # another key
        {"mcp_server_name": "kie-other", "request_state_keys": KEY_A},  # another audience
    ],
    ids=["no-keys", "other-key", "other-name"],
)
async def test_replicas_configured_differently_refuse_the_state(
    tmp_path: Path, other: dict[str, str]
) -> None:
    async with runtime_for(tmp_path) as runtime:
        state = await first_round(
            replica(runtime, mcp_server_name="kie-team", request_state_keys=KEY_A)
        )
        refused = await retry(replica(runtime, **other), state)
    assert refused == "refused: Invalid or expired requestState"


def test_the_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIE_MCP_SERVER_NAME", "kie-prod")
    monkeypatch.setenv("KIE_REQUEST_STATE_KEYS", f" {KEY_A} , {KEY_B} ")
    settings = Settings()
    assert settings.mcp_server_name == "kie-prod"
    assert settings.request_state_key_list() == [KEY_A, KEY_B]
    assert KEY_A not in repr(settings) and KEY_A not in str(settings.model_dump())
    monkeypatch.delenv("KIE_MCP_SERVER_NAME")
    monkeypatch.delenv("KIE_REQUEST_STATE_KEYS")
    assert Settings().mcp_server_name == "mcp-server-kie"
    assert Settings().request_state_key_list() == []


def test_a_short_key_is_refused_without_showing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIE_REQUEST_STATE_KEYS", f"{KEY_A},too-short-secret")
    with pytest.raises(ValidationError) as refused:
        Settings()
    message = str(refused.value)
    assert "key 2 of 2 is shorter than 32 characters" in message
    assert "too-short-secret" not in message and KEY_A not in message
