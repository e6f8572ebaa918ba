"""Question 8, context cost: how many bytes a tool result puts in front of the model, for a
finished image (generate_image that waits) and a pending video (generate_video, no wait).

The product runs as a host runs it (a process over stdio, real mode, webhooks) against a
simulator in this process; each result is measured as it arrives on the wire, re-serialised
compactly: the text blocks, the inline thumbnail (base64), the structured content, and the
whole result. The baseline is what a naive server returns for the same image: the full file
inline as base64.
"""

from __future__ import annotations

import asyncio
import base64
import json
import tempfile
from pathlib import Path
from typing import Any

from harness import (
    HMAC_KEY,
    KEY,
    Result,
    Row,
    StdioServer,
    emit,
    free_port,
    parse_args,
    setup,
    stdio_env,
)

from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox
from mcp_server_kie.server.runtime import run


def size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def parts(result: dict[str, Any]) -> dict[str, int]:
    content = result.get("content", [])
    return {
        "text": sum(len(c["text"].encode()) for c in content if c["type"] == "text"),
        "thumbnail_base64": sum(len(c["data"]) for c in content if c["type"] == "image"),
        "content": size(content),
        "structured": size(result.get("structuredContent")),
        "total": size(result),
    }


async def main() -> None:
    args = parse_args(__doc__)
    started = setup()
    result = Result(8, "Context cost", args.smoke)
    config = SandboxConfig(api_key=KEY, image_seconds=0.5, video_seconds=60, hmac_key=HMAC_KEY)
    with tempfile.TemporaryDirectory(prefix="bench-context-") as tmp:
        async with serve_sandbox(config) as sandbox:
            port = free_port()
            env = stdio_env(Path(tmp), sandbox.base_url) | {
                "KIE_WEBHOOK_PORT": str(port),
                "KIE_PUBLIC_URL": f"http://127.0.0.1:{port}",
                "KIE_WEBHOOK_HMAC_KEY": HMAC_KEY,
            }
            server = await StdioServer.start(env, Path(tmp, "server.log"))
            try:
                await server.initialize()
                image = await server.call_tool(
                    "generate_image",
                    {"prompt": "a lighthouse on a cliff at dusk, oil painting", "wait_seconds": 30},
                )
                video = await server.call_tool(
                    "generate_video",
                    {"prompt": "waves rolling onto a beach at sunrise", "wait_seconds": 0},
                )
            finally:
                await server.close()
        structured = image["structuredContent"]
        assert structured["status"] == "completed", structured
        assert video["structuredContent"]["status"] in ("pending", "processing")
        stored = await asyncio.to_thread(Path(structured["outputs"][0]["path"]).read_bytes)
    image_parts, video_parts = parts(image), parts(video)
    naive = len(base64.b64encode(stored)) + image_parts["text"]
    result.rows += [
        Row(
            "Finished image result, bytes: text "
            f"{image_parts['text']:,} + thumbnail {image_parts['thumbnail_base64']:,} (base64) "
            f"+ structured {image_parts['structured']:,}; total",
            image_parts["total"],
            "bytes",
            f"the {len(stored) / 1024:.0f} KB image inline as base64, plus the same text",
            naive,
            round(image_parts["total"] / naive, 2),
            "ours ÷ naive",
        ),
        Row(
            f"Pending video result, bytes: text {video_parts['text']:,} + structured "
            f"{video_parts['structured']:,}; total",
            video_parts["total"],
            "bytes",
        ),
    ]
    result.notes.append(
        "Sizes are compact UTF-8 JSON as on the wire. A host shows the model the content blocks "
        "(text and thumbnail) and, depending on the host, the structured content too."
    )
    result.details = {"image": image_parts, "video": video_parts, "image_file_bytes": len(stored)}
    emit(result, started)


if __name__ == "__main__":
    run(main())
