"""What a prompt search's words mean, on both backends: each word is a word prefix, words that
another word implies are not asked for twice, and PostgreSQL's index of word prefixes (schema 6)
finds exactly what its old prefix queries found, long words and compound words included.

Not timed: the guards read results and query plans.
"""

from __future__ import annotations

import psycopg
import pytest

from mcp_server_kie.storage import MediaQuery, Store
from mcp_server_kie.storage.library import essential_words
from mcp_server_kie.storage.postgres.schema import MIGRATIONS as PG_MIGRATIONS
from postgres_server import new_database
from test_search_order import fill, library_with_a_common_word, plan, walk

LONG = "supercalifragilisticexpialidocious"  # 34 letters, past the 20-character prefixes

PROMPTS = {
    "job_1": f"a {LONG} sunset over snake_case harbours",
    "job_2": "supercalifragilistic dreams, no sunset",  # shares the long word's first 20 letters
    "job_3": "Holholque river at dawn",
    "job_4": "holhol river, snake and a case",  # both halves of snake_case, not together
}


@pytest.mark.parametrize(
    ("words", "kept"),
    [
        (["holhol", "holholque"], ["holholque"]),
        (["holholque", "holhol"], ["holholque"]),
        (["cat", "cat"], ["cat"]),
        (["Cat", "cat", "ca", "dog"], ["Cat", "dog"]),
        (["sun", "misty"], ["sun", "misty"]),
        (["Éclair", "éclairs"], ["Éclair", "éclairs"]),  # case ignored for ASCII words only
        (["x"], ["x"]),
    ],
)
def test_a_word_another_word_implies_is_dropped(words: list[str], kept: list[str]) -> None:
    assert essential_words(words) == kept


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("supercalifragilisticexpialidocious", ["job_1"]),
        ("supercalifragilisticexp", ["job_1"]),
        ("supercalifragilistic", ["job_2", "job_1"]),
        ("supercalifragilistid", []),
        ("snake_case", ["job_1"]),  # the words adjacent, as the text parser reads it
        ("snake_ca", ["job_1"]),
        ("holhol holholque", ["job_3"]),
        ("HOLHOL", ["job_4", "job_3"]),
        ("holhol river", ["job_4", "job_3"]),
        ("sunset harb", ["job_1"]),
        ("sunsets", []),
    ],
)
async def test_every_word_is_a_word_prefix(database_url: str, text: str, found: list[str]) -> None:
    store = await Store.connect(database_url)
    try:
        await fill(
            store,
            [
                (job_id, "image", prompt, 1_790_000_000.0 + n)
                for n, (job_id, prompt) in enumerate(PROMPTS.items())
            ],
        )
        assert await walk(store, text=text) == found
    finally:
        await store.close()


async def test_postgres_asks_its_index_for_whole_prefixes(postgres_server: str) -> None:
    """Every job has "sunset" and "misty": the two words are two exact lexemes of the prefix
    index (a prefix query, 'sun':*, would gather every match of every word starting "sun")."""
    store = await library_with_a_common_word(new_database(postgres_server))
    try:
        text = await plan(store, MediaQuery(limit=50, text="sun mist zebra"))
        assert "search_prefixes @@ '''sun'' & ''mist'' & ''zebra'''" in text, text
        assert ":*" not in text, text
        long = await plan(store, MediaQuery(limit=50, text=LONG))
        assert f"'''{LONG[:20]}'''" in long and f"'''{LONG}'':*'" in long, long
    finally:
        await store.close()


async def test_postgres_upgrade_to_the_prefix_index_keeps_the_library_searchable(
    postgres_server: str,
) -> None:
    """A library at schema 5 (the old prefix-query column) is searched by prefix after
    upgrading, and its old column is gone."""
    database_url = new_database(postgres_server)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE kie_schema (version INTEGER NOT NULL)")
        await conn.execute("INSERT INTO kie_schema (version) VALUES (5)")
        for script in PG_MIGRATIONS[:5]:
            await conn.execute(script.encode())
        await conn.execute(
            "INSERT INTO jobs (id, kind, model, prompt, params, status, created_at, updated_at)"
            " VALUES ('job_old', 'image', 'z-image', 'A Lighthouse at dusk', '{}', 'completed',"
            " 20, 20)"
        )
    store = await Store.connect(database_url)
    try:
        assert await walk(store, text="lightho") == ["job_old"]
        assert await walk(store, text="dusk light") == ["job_old"]
        assert await walk(store, text="lighthouses") == []
        row = await store.db.fetch_one(
            "SELECT count(*) AS n FROM information_schema.columns"
            " WHERE table_name = 'jobs' AND column_name = 'search'"
        )
        assert row is not None and row["n"] == 0
    finally:
        await store.close()
