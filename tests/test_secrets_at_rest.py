"""No callback token at rest or in the log: a real webhook flow with DEBUG logging.

kie.ai echoes the create request (callback URL, token and all) in the `param` fields of the
callbacks it sends. The server runs as a subprocess at DEBUG, the job finishes through a
webhook, and then every file of the data folder (database, WAL, shared memory, media) and
the whole log are searched for the token in any form.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from mcp_server_kie.redaction import REDACTED, redact_body, redact_text
from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox
from support import SANDBOX_KEY, call, free_port


async def test_no_callback_token_in_database_files_or_debug_log(tmp_path: Path) -> None:
    data = tmp_path / "data"
    log_path = tmp_path / "server.log"
    config = SandboxConfig(api_key=SANDBOX_KEY, image_seconds=0.3)
    async with serve_sandbox(config) as sandbox:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIE_")}
        env.update(
            KIE_API_KEY=SANDBOX_KEY,
            KIE_BASE_URL=sandbox.base_url,
            KIE_DATA_DIR=str(data),
            KIE_WEBHOOK_PORT=str(port),
            KIE_PUBLIC_URL=f"http://127.0.0.1:{port}",
            KIE_LOG_LEVEL="DEBUG",
        )
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "mcp_server_kie", "serve"], env=env
        )
        with log_path.open("w") as errlog:
            async with Client(stdio_client(params, errlog=errlog)) as client:
                job = await call(
                    client, "generate_image", {"prompt": "a lighthouse", "wait_seconds": 20}
                )
                assert job["status"] == "completed", job
                # Searched while the server still runs, so the WAL is not yet checkpointed.
                files_while_running = _files(data)
        [task] = sandbox.tasks.values()
        assert task.callback_done, "the job must have finished through a delivered callback"
        assert task.callback_url is not None
        [token] = parse_qs(urlsplit(task.callback_url).query)["token"]

    forms = {token.encode(), quote(token, safe="").encode()}
    log_text = log_path.read_bytes()
    assert b"DEBUG" in log_text, "the server did not log at DEBUG"
    everything = [*files_while_running.items(), *_files(data).items()]
    for name, content in everything:
        assert not any(form in content for form in forms), f"token in clear in {name}"
    assert not any(form in log_text for form in forms), "token in clear in the debug log"
    # The delivery's row is deleted once the job ends, but its (redacted) bytes were written:
    # the WAL or the database's free pages still hold them, and show where the token was.
    assert any(REDACTED.encode() in content for _name, content in everything)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_redaction_keeps_json_readable_and_catches_every_credential_shape() -> None:
    token = "abc-DEF_123"
    body = (
        b'{"code":200,"data":{"taskId":"t1","param":"{\\"callBackUrl\\":'
        b'\\"https://x.example/webhooks/kie/job_1?token=abc-DEF_123\\"}"}}'
    )
    cleaned = redact_body(body, token)
    assert b"abc-DEF_123" not in cleaned and b'"taskId":"t1"' in cleaned
    # Without knowing the secret, the shape alone is enough.
    assert b"abc-DEF_123" not in redact_body(body)
    for text in (
        "POST /webhooks/kie/job_1?token=s3cr3t HTTP/1.1",
        "url=https%3A%2F%2Fh%2Fw%3Ftoken%3Ds3cr3t",
        "Authorization: Bearer s3cr3t",
        "GET /x?a=1&api_key=s3cr3t&b=2",
    ):
        assert "s3cr3t" not in redact_text(text), text
    assert redact_text("a token of s3cr3t", "s3cr3t") == f"a token of {REDACTED}"
    assert redact_text("design=blue, monkey=1") == "design=blue, monkey=1"
