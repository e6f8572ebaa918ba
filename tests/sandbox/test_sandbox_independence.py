"""The sandbox is an independent implementation of kie's contract: it must not borrow the
client's code (or anything built on it), or the two stop checking each other."""

from __future__ import annotations

import ast
from pathlib import Path

import mcp_server_kie.sandbox

FORBIDDEN = ("kie", "catalog", "jobs", "storage", "tools", "server")


def imported_modules(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            if node.level:
                raise AssertionError(f"{source.name}: use absolute imports")
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_sandbox_imports_nothing_from_the_client_side():
    package = Path(mcp_server_kie.sandbox.__file__).parent
    sources = sorted(package.rglob("*.py"))
    assert len(sources) >= 15
    for source in sources:
        for name in imported_modules(source):
            for room in FORBIDDEN:
                prefix = f"mcp_server_kie.{room}"
                borrowed = name == prefix or name.startswith(prefix + ".")
                assert not borrowed, f"{source.name} imports {name}"


def test_the_forbidden_rooms_exist_so_the_check_means_something():
    root = Path(mcp_server_kie.sandbox.__file__).parent.parent
    for room in FORBIDDEN:
        assert (root / room).is_dir() or (root / f"{room}.py").is_file(), room
