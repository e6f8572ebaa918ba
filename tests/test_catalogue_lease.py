"""The catalogue refresh runs under a lease: kie's 1 request/s budget for its discovery
endpoints is account-wide, so replicas sharing a database ask kie one at a time, and a replica
that waited for another's refresh takes its result instead of asking again. On SQLite (two
stores on one file, as two processes on one folder) and PostgreSQL (two replicas)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx2

from mcp_server_kie.catalog import Catalogue
from mcp_server_kie.jobs.catalogue import LEASE, CatalogueRefresher
from mcp_server_kie.kie.client import KieClient
from mcp_server_kie.sandbox import ModelSpec, Sandbox, SandboxConfig, serve_sandbox
from mcp_server_kie.storage import Store
from support import SANDBOX_KEY

MODELS = "/api/v1/models"
SCHEMA = {"type": "object", "properties": {"prompt": {"type": "string"}}, "required": ["prompt"]}


@asynccontextmanager
async def replicas(
    sandbox: Sandbox, database_url: str, tmp_path: Path, count: int
) -> AsyncIterator[list[tuple[Store, CatalogueRefresher, list[Catalogue]]]]:
    """``count`` refreshers, each with its own store connection and kie client: what each
    replica (or process) of one deployment holds."""
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(httpx2.AsyncClient())
        made = []
        for _ in range(count):
            store = await Store.connect(database_url, tmp_path / "kie.sqlite3")
            stack.push_async_callback(store.close)
            kie = KieClient(http, api_key=SANDBOX_KEY, base_url=sandbox.base_url)
            published: list[Catalogue] = []
            made.append((store, CatalogueRefresher(kie, store, published.append), published))
        yield made


async def test_replicas_refreshing_at_once_ask_kie_once(tmp_path: Path, database_url: str) -> None:
    async with serve_sandbox(SandboxConfig(api_key=SANDBOX_KEY)) as sandbox:
        sandbox.shelf.add(ModelSpec("sandbox/leased", "image", {}, price=3.0, schema=SCHEMA))
        async with replicas(sandbox, database_url, tmp_path, 3) as made:
            offered = await asyncio.gather(*(refresher.refresh() for _, refresher, _ in made))
            at_once = sandbox.count(MODELS)
            schemas = sandbox.count("/sandbox/leased/schema")
            # Asked again later (no one else refreshing), a replica does ask kie.
            again = await made[1][1].refresh()
            store = made[0][0]
            holder = await store.lease_holder(LEASE)
    assert at_once == 1 and schemas == 1
    assert sandbox.count(MODELS) == 2
    for catalogue in [*offered, again]:
        assert catalogue.source == "live" and catalogue.find("sandbox/leased") is not None
    assert [len(published) for _, _, published in made] == [1, 2, 1]
    assert holder is None  # released once done
