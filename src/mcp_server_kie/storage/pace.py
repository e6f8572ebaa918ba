"""Account-wide request pacing: at most ``limit`` requests per ``window`` seconds for one
pace (say, one API key's creates), counted over every process and replica on the database.

A slot is a row: taken when a request starts, finished when its answer arrives; the window
runs from the answer (as in kie/limits.py). Deciding happens in one transaction holding the
pace's lock, on the database's clock. A slot left unfinished by a killed process stops
counting after ``stale`` seconds.
"""

from __future__ import annotations

from mcp_server_kie.storage.database import Database, Transaction

_NEXT_LOOK = 0.05  # seconds to wait when every slot is in flight (the next answer frees one)


class PaceQueries:
    db: Database

    async def take_pace_slot(
        self, pace: str, limit: int, window: float, stale: float
    ) -> tuple[int | None, float]:
        """A slot id, or None and how many seconds to wait before asking again."""
        now_sql = self.db.dialect.now

        async def take(conn: Transaction) -> tuple[int | None, float]:
            await conn.serialize(f"pace:{pace}")
            clock = await conn.fetch_one(f"SELECT {now_sql} AS now")
            now = float(clock["now"]) if clock else 0.0
            await conn.execute(
                "DELETE FROM pace_slots WHERE pace = ? AND (finished_at <= ?"
                " OR (finished_at IS NULL AND started_at <= ?))",
                (pace, now - window, now - stale),
            )
            paused = await conn.fetch_one("SELECT until FROM pace_pauses WHERE pace = ?", (pace,))
            if paused is not None and float(paused["until"]) > now:
                return None, float(paused["until"]) - now
            rows = await conn.fetch_all(
                "SELECT finished_at FROM pace_slots WHERE pace = ?"
                " ORDER BY finished_at IS NULL, finished_at",
                (pace,),
            )
            if len(rows) >= limit:
                oldest = rows[0]["finished_at"]
                return None, _NEXT_LOOK if oldest is None else float(oldest) + window - now
            row = await conn.fetch_one(
                "INSERT INTO pace_slots (pace, started_at) VALUES (?, ?) RETURNING id",
                (pace, now),
            )
            assert row is not None
            return int(row["id"]), 0.0

        return await self.db.write(take)

    async def finish_pace_slot(self, slot_id: int) -> None:
        """The request's answer arrived: its slot counts for one window from now."""
        now = self.db.dialect.now

        async def finish(conn: Transaction) -> None:
            await conn.execute(
                f"UPDATE pace_slots SET finished_at = {now} WHERE id = ?", (slot_id,)
            )

        await self.db.write(finish)

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

        await self.db.write(pause)
