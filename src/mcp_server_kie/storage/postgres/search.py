"""PostgreSQL prompt search: whole lexemes of a word-prefix index, newest first.

Every prompt word is a word prefix. The ``search_prefixes`` column (schema 6) holds every
prefix of 1 to 20 characters of each word of the prompt, so a query word up to 20 characters
is one exact lexeme: GIN intersects the words' posting lists (it skips through a common one
using a rarer one) where a prefix query ('dun':*) first gathered every match of every word
with that prefix. ANALYZE keeps each prefix's frequency, so the planner weighs a word
correctly: a common word walks the (created_at, id) index and stops after a page; rare ones
read their few matches from GIN and sort only those.

A word longer than 20 characters, or one the text parser may cut in pieces (not purely
letters and digits, e.g. ``snake_case``), is looked up by its first 20 characters' lexemes and
then checked against the prompt itself, with the prefix query of the old index, so a match
means exactly what it meant before.

The query is written into the SQL, not passed as a parameter: a prepared statement's generic
plan (psycopg prepares a query it sees five times) would assume a default frequency and could
sort every match of a common word. Words are runs of word characters (prompt_words), so they
hold no quote; doubling quotes keeps it so.
"""

from __future__ import annotations

from mcp_server_kie.storage.database import SearchPage
from mcp_server_kie.storage.records import job_columns

LONGEST_PREFIX = 20  # characters; the schema's kie_word_prefixes keeps prefixes up to this


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def search_conditions(words: list[str]) -> list[str]:
    """SQL conditions on ``jobs`` that hold when every word is a prefix of a prompt word."""
    indexed = " ".join(word[:LONGEST_PREFIX] for word in words)
    conditions = [f"search_prefixes @@ plainto_tsquery('simple', {_literal(indexed)})"]
    for word in words:
        if len(word) > LONGEST_PREFIX or not word.isalnum():
            exact = _literal(_literal(word) + ":*")
            conditions.append(f"to_tsvector('simple', prompt) @@ to_tsquery('simple', {exact})")
    return conditions


def search_page(page: SearchPage) -> tuple[str, list[object]]:
    """One page of jobs matching ``page.words``, sorted by (created_at, id)."""
    conditions = [*page.conditions, *search_conditions(list(page.words))]
    order = "DESC" if page.newest_first else "ASC"
    sql = (
        f"SELECT {job_columns()} FROM jobs WHERE {' AND '.join(conditions)}"
        f" ORDER BY created_at {order}, id {order} LIMIT ?"
    )
    return sql, [*page.params, page.fetch]
