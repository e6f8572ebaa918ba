"""The ``scripts/update-catalog`` command: regenerate (or check) ``catalog/data/models.json``.

Offline by default, from the snapshot of kie's OpenAPI documents shipped in the package
(``--snapshot FILE`` reads another of the same shape). ``--online`` reads kie's documentation
as it is now: ``https://docs.kie.ai/llms.txt`` and the pages it lists (``--online URL`` reads
another ``llms.txt``, e.g. a local mirror). ``--check`` exits 1 when the committed file differs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mcp_server_kie.catalog import online
from mcp_server_kie.catalog.generate import DATA_FILE, build_catalogue, load_snapshot, render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="update-catalog",
        description="Regenerate catalog/data/models.json from kie.ai's OpenAPI documents.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--snapshot", type=Path, help="a snapshot file (.json or .json.gz)")
    source.add_argument(
        "--online",
        nargs="?",
        const=online.DOCS_INDEX,
        metavar="LLMS_TXT_URL",
        help=f"read kie's docs now: llms.txt (default {online.DOCS_INDEX}) and its pages",
    )
    parser.add_argument("--output", type=Path, default=DATA_FILE)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    path: Path | None = args.snapshot
    if args.online:
        try:
            snapshot = online.read_docs(args.online)
        except online.DocsError as exc:
            sys.stderr.write(f"{exc}\nNothing was written.\n")
            return 2
    elif path is not None and path.suffix == ".json":
        snapshot = json.loads(path.read_text(encoding="utf-8"))
    else:
        snapshot = load_snapshot(path)
    text = render(build_catalogue(snapshot))
    output: Path = args.output
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            sys.stderr.write(f"{output} is stale: run scripts/update-catalog\n")
            return 1
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    count = len(json.loads(text)["models"])
    sys.stderr.write(f"wrote {count} models to {output}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
