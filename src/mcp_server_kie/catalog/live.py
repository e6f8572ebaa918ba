"""Merge kie's live model list into the committed catalogue. Pure.

kie's `GET /api/v1/models` names every Market model it offers now, with a pricing sentence;
`/api/v1/models/{model}/schema` gives a model's input schema. The merge offers exactly the
Market models kie lists (a model kie no longer lists is dropped: its old jobs stay readable),
keeps the committed entry of a model kie still lists (its schema, defaults and price table,
unless kie's sentence names another price), adds a new model with its live schema, and keeps
the per-family APIs (Veo, Runway, 4o Image, ...), which the list does not cover.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from mcp_server_kie.catalog.capabilities import capabilities
from mcp_server_kie.catalog.generate import clean_schema, schema_defaults, strict_input
from mcp_server_kie.catalog.hand_kept import TYPICAL_SECONDS_BY_KIND

_PRICE = re.compile(
    r"(\d+(?:\.\d+)?)\s*credits?\s*(?:per\s+|/\s*)(1,?000\s+char\w*|second|sec\b|s\b|\w+)",
    re.IGNORECASE,
)
_KIND_WORDS = (("video", "video"), ("image", "image"), ("speech", "audio"), ("audio", "audio"),
               ("music", "audio"), ("voice", "audio"))  # fmt: skip


def parse_price(text: str) -> dict[str, Any] | None:
    """kie's pricing sentence as credits per unit ("4 credits per image" -> 4 per task;
    "2.4 credits/s" -> 2.4 per second), or None when it names no figure."""
    found = _PRICE.search(text or "")
    if found is None:
        return None
    unit = found.group(2).lower()
    per = (
        "second"
        if unit in ("second", "sec", "s")
        else "1000 characters"
        if unit.startswith(("1000", "1,000"))
        else "task"
    )
    return {"by": [], "per": per, "credits": {"": float(found.group(1))}}


def kind_of(task_types: Iterable[str]) -> str | None:
    """The media kind kie's task types name ("Text to Video" -> video), or None."""
    text = " ".join(task_types).lower()
    outputs = [part.rsplit(" to ", 1)[-1] for part in text.split(",")] if " to " in text else []
    for word, kind in _KIND_WORDS:
        if any(word in o for o in outputs) or (not outputs and word in text):
            return kind
    return None


def merge(
    committed: Iterable[Mapping[str, Any]],
    listed: Iterable[Mapping[str, Any]],
    schemas: Mapping[str, Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Catalogue entries for what kie lists now. `listed` rows hold model, title, task_types,
    pricing; `schemas` the live input schemas fetched for models the committed file lacks."""
    known = {str(e["id"]): dict(e) for e in committed}
    merged = [entry for entry in known.values() if entry.get("family") != "market"]
    for row in listed:
        model = str(row["model"])
        live_price = parse_price(str(row.get("pricing", "")))
        entry = known.get(model)
        if entry is None:
            entry = _new_entry(row, schemas.get(model))
            if entry is None:
                continue
        entry["price"] = _price(entry.get("price"), live_price)
        merged.append(entry)
    return merged


def _new_entry(row: Mapping[str, Any], raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
    kind = kind_of(row.get("task_types", ()))
    if kind is None or raw is None:
        return None
    model = str(row["model"])
    schema = strict_input(clean_schema(dict(raw)))
    return {
        "id": model,
        "title": str(row.get("title") or model),
        "kind": kind,
        "family": "market",
        "capabilities": capabilities(model, kind, schema),
        "doc_url": "https://docs.kie.ai/",
        "defaults": schema_defaults(schema),
        "price": None,
        "typical_seconds": TYPICAL_SECONDS_BY_KIND[kind],
        "fixed": {},
        "input_schema": schema,
    }


def _price(committed: Any, live: dict[str, Any] | None) -> Any:
    """The committed table while kie's sentence agrees with it, else kie's figure (or None)."""
    if live is None:
        return None
    figure = live["credits"][""]
    agrees = (
        isinstance(committed, Mapping)
        and committed.get("per") == live["per"]
        and figure in {float(v) for v in committed.get("credits", {}).values()}
    )
    return dict(committed) if agrees and isinstance(committed, Mapping) else live
