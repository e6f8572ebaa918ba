"""Account-wide request pacing: at most ``limit`` requests per ``window`` seconds for one
pace (say, one API key's creates), counted over every process and replica on the database.

A slot is a row: taken when a request starts, finished when its answer arrives; the window
runs from the answer (as in kie/limits.py). Deciding happens in one transaction holding the
pace's lock, on the database's clock; on PostgreSQL that transaction is one call of a function
of the schema (migration 7) taking the same steps, a round trip instead of five. A slot left
unfinished by a killed process stops counting after ``stale`` seconds. Slots are written
without waiting for the disk (``durable=False``): what a power cut loses is a few seconds of
pacing, never a job.
"""

from __future__ import annotations

from collections.abc import Sequence

from mcp_server_kie.storage.database import Database, Transaction

_NEXT_LOOK = 0.05  # seconds to wait when every slot is in flight (the next answer frees one)


class PaceQueries:
    db: Database

    async def take_pace_slot(
        self, pace: str, limit: int, window: float, stale: float
    ) -> tuple[int | None, float]:
        """A slot id, or None and how many seconds to wait before asking again."""
        one_statement = self.db.dialect.take_pace_slot
        if one_statement is not None:  # the same rule, in the database (PostgreSQL)
            [row] = await self.db.write_one(
                one_statement, (pace, limit, window, stale, _NEXT_LOOK), durable=False
            )
            return (None if row["slot"] is None else int(row["slot"])), float(row["wait"])
        now_sql = self.db.dialect.now

        async def take(conn: Transaction) -> tuple[int | None, float]:
            await conn.serialize(f"pace:{pace}")
            # One round trip reads the clock (once), the pause and the slots still counting:
            # a finished slot for a window after its answer, an unfinished one until stale.
            state = await conn.fetch_one(
                f"WITH clock AS (SELECT {now_sql} AS now) SELECT clock.now AS now,"
                " (SELECT until FROM pace_pauses WHERE pace = ?) AS until,"
                " count(s.id) AS held,"
                " coalesce(sum(CASE WHEN s.finished_at > clock.now - ? OR (s.finished_at IS NULL"
                " AND s.started_at > clock.now - ?) THEN 1 ELSE 0 END), 0) AS counting,"
                " min(CASE WHEN s.finished_at > clock.now - ? THEN s.finished_at END) AS oldest"
                " FROM clock LEFT JOIN pace_slots s ON s.pace = ? GROUP BY clock.now",
                (pace, window, stale, window, pace),
            )
            assert state is not None
            now = float(state["now"])
            if state["until"] is not None and float(state["until"]) > now:
                return None, float(state["until"]) - now
            counting = int(state["counting"])
            if counting >= limit:
                oldest = state["oldest"]
                return None, _NEXT_LOOK if oldest is None else float(oldest) + window - now
            if int(state["held"]) - counting >= limit:  # slots that no longer count: clear
                await conn.execute(  # them now and then, not on every request
                    "DELETE FROM pace_slots WHERE pace = ? AND (finished_at <= ?"
                    " OR (finished_at IS NULL AND started_at <= ?))",
                    (pace, now - window, now - stale),
                )
            row = await conn.fetch_one(
                "INSERT INTO pace_slots (pace, started_at) VALUES (?, ?) RETURNING id",
                (pace, now),
            )
            assert row is not None
            return int(row["id"]), 0.0

        return await self.db.write(take, durable=False)

    async def finish_pace_slots(self, slot_ids: Sequence[int]) -> None:
        """The requests' answers arrived: their slots count for one window from now."""
        now = self.db.dialect.now
        marks = ", ".join("?" for _ in slot_ids)
        await self.db.write_one(
            f"UPDATE pace_slots SET finished_at = {now} WHERE id IN ({marks})",
            tuple(slot_ids),
            durable=False,
        )

    async def drop_pace_slots(self, slot_ids: Sequence[int]) -> None:
        """Slots taken and never used for a request: they stop counting at once."""
        marks = ", ".join("?" for _ in slot_ids)
        await self.db.write_one(
            f"DELETE FROM pace_slots WHERE id IN ({marks})", tuple(slot_ids), durable=False
        )

    async def pause_pace(self, pace: str, seconds: float) -> None:
        """Start no request of this pace for ``seconds`` (a longer pause already set holds)."""
        now = self.db.dialect.now

        async def pause(conn: Transaction) -> None:
            await conn.execute(
                f"INSERT INTO pace_pauses (pace, until) VALUES (?, {now} + ?)"
                " ON CONFLICT (pace) DO UPDATE SET until = excluded.until"
                " WHERE pace_pauses.until < excluded.until",
                (pace, seconds),
            )

        await self.db.write(pause, durable=False)
