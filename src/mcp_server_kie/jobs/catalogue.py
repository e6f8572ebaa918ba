"""The live catalogue: kie's own list of the models it offers now, merged into the committed
file, cached in the store for a time-to-live, refreshed in the background.

One refresh reads `GET /api/v1/models` (every Market model with its pricing sentence) and the
schema of each model the committed file does not know, within kie's 1 request/s budget for
these endpoints. When kie cannot be asked (down, refused, malformed), the committed file is
offered instead: never a half-read list.

That budget is account-wide, so replicas (and processes) sharing a store refresh under one
lease (``catalogue``): one of them asks kie; the others wait for it and take what it cached.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from mcp_server_kie.catalog import COMMITTED, COMMITTED_ENTRIES, RETIRED, Catalogue, load_models
from mcp_server_kie.catalog.hand_kept import NOT_MEDIA
from mcp_server_kie.catalog.live import merge
from mcp_server_kie.jobs.leases import Leases
from mcp_server_kie.kie.client import KieClient
from mcp_server_kie.kie.discovery import input_schema, listed_models
from mcp_server_kie.kie.errors import KieError
from mcp_server_kie.storage.store import Store

log = logging.getLogger(__name__)

CACHE_KEY = "kie_catalogue_cache"  # a store preference no tool shows or sets
DEFAULT_TTL = 6 * 3600.0
MAX_NEW_SCHEMAS = 50  # schemas read per refresh (1 request/s each)
LEASE = "catalogue"  # who may ask kie's discovery endpoints now
LEASE_WAIT = MAX_NEW_SCHEMAS * 3.0  # seconds to wait for another replica's refresh

Publish = Callable[[Catalogue], None]


class CatalogueRefresher:
    """Keeps `current` (and whoever `publish` feeds) at kie's live list, or the committed file."""

    def __init__(
        self,
        kie: KieClient,
        store: Store,
        publish: Publish,
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._kie = kie
        self._store = store
        self._publish = publish
        self._ttl = ttl
        self._clock = clock
        self._leases = Leases(store)
        self.current: Catalogue = COMMITTED

    async def run(self) -> None:
        """Use the cache while it is fresh (whichever replica filled it), else refresh; again
        whenever it grows stale."""
        while True:
            cached = await self._cached()
            age = self._clock() - float(cached.get("fetched_at", 0)) if cached else -1.0
            if cached and 0 <= age < self._ttl:
                self._set(_build(cached), "cache")
            else:
                await self.refresh()
                age = 0.0
            await asyncio.sleep(self._ttl - age)

    async def refresh(self) -> Catalogue:
        """Ask kie now, holding the catalogue lease; on failure offer the committed file. If
        another replica refreshed while this one waited for the lease, take its result instead
        of asking again. Returns what is offered."""
        began = self._clock()
        async with self._leases.hold(LEASE, wait=LEASE_WAIT) as held:
            cached = await self._cached()
            if cached and float(cached.get("fetched_at", 0)) >= began:
                self._set(_build(cached), "another replica's refresh")
                return self.current
            if not held:
                log.warning("another replica is still refreshing the catalogue; keeping this one")
                return self.current
            return await self._ask_kie()

    async def _cached(self) -> dict[str, Any] | None:
        cached = (await self._store.preferences()).get(CACHE_KEY)
        return cached if isinstance(cached, dict) else None

    async def _ask_kie(self) -> Catalogue:
        try:
            listed = await listed_models(self._kie)
            known = {str(entry["id"]) for entry in COMMITTED_ENTRIES}
            new = [m.model for m in listed if m.model not in known | set(RETIRED) | set(NOT_MEDIA)]
            schemas: dict[str, Any] = {}
            for model in new[:MAX_NEW_SCHEMAS]:
                schema = await input_schema(self._kie, model)
                if schema is not None:
                    schemas[model] = schema
        except KieError as exc:
            log.warning("kie.ai's model list is unavailable (%s); offering the committed file", exc)
            self._set(COMMITTED, "committed file")
            return self.current
        rows = [
            {"model": m.model, "title": m.title, "task_types": list(m.task_types),
             "pricing": m.pricing}
            for m in listed
            if m.model not in RETIRED and m.model not in NOT_MEDIA
        ]  # fmt: skip
        cache = {"fetched_at": self._clock(), "rows": rows, "schemas": schemas}
        await self._store.set_preferences({CACHE_KEY: cache})
        self._set(_build(cache), "kie.ai")
        return self.current

    def _set(self, catalogue: Catalogue, source: str) -> None:
        self.current = catalogue
        self._publish(catalogue)
        log.info("catalogue: %d models from %s", len(catalogue.specs), source)


def _build(cache: dict[str, Any]) -> Catalogue:
    entries = merge(COMMITTED_ENTRIES, cache.get("rows", []), cache.get("schemas", {}))
    return Catalogue(load_models(entries), source="live")
