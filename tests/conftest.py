from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

# Real PostgreSQL (postgres_server, database_url) and the local and S3 media backends (media_url).
pytest_plugins = ["postgres_server", "media_backends"]


def pytest_asyncio_loop_factories(config: object, item: object) -> dict[str, object]:
    """Async tests run on the event loop the server runs on (uvloop where installed)."""
    from mcp_server_kie.server.runtime import event_loop_factory

    return {"server_loop": event_loop_factory()}
