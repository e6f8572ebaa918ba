"""A real PostgreSQL for the tests (a pytest plugin, loaded by conftest.py).

One server per test session, started by the project's own ``scripts/postgres`` (which installs
Debian's postgresql when missing, runs initdb into a temporary folder and listens on a free
loopback port) and stopped at the end; one new, empty database per test. If the server cannot
start, the tests that need it fail: they are never skipped.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of the session's server (its maintenance database, ``postgres``)."""
    started = subprocess.run(
        ["bash", str(ROOT / "scripts" / "postgres"), "start"],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if started.returncode != 0:
        pytest.fail(f"scripts/postgres could not start PostgreSQL:\n{started.stderr}")
    url, folder = started.stdout.split()
    try:
        yield url
    finally:
        subprocess.run(
            ["bash", str(ROOT / "scripts" / "postgres"), "stop", folder], timeout=60, check=False
        )


def new_database(server_url: str) -> str:
    """A new empty database on the server; its URL."""
    name = "t_" + secrets.token_hex(6)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}".encode())
    return f"{server_url.rsplit('/', 1)[0]}/{name}"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """KIE_DATABASE_URL for each backend in turn: a SQLite file, then a new Postgres database."""
    if request.param == "sqlite":
        return str(tmp_path / "db.sqlite3")
    return new_database(request.getfixturevalue("postgres_server"))
