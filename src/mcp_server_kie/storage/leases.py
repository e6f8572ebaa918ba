"""Leases: exclusive, expiring claims on shared work, for processes and replicas alike.

A lease names a piece of work (``job:<id>``: refreshing a job from kie.ai and downloading its
outputs). One holder at a time: a claim succeeds when the lease is free, expired, or already
the claimant's. A holder renews while it works and releases when done; a holder that dies
(``kill -9``) simply stops renewing, and the lease is free again once it expires. Expiry is
judged by the database's clock, so replicas on machines with drifting clocks agree.

Each claim is one atomic upsert (``INSERT ... ON CONFLICT DO UPDATE ... WHERE``), on SQLite
and PostgreSQL alike: it never blocks on another holder, which is what ``FOR UPDATE SKIP
LOCKED`` buys a queue; here the work is named, so there is nothing to skip over.
"""

from __future__ import annotations

from mcp_server_kie.storage.database import Database


class LeaseQueries:
    db: Database

    async def claim_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Take ``name`` for ``seconds`` if it is free, expired or already ours."""
        now = self.db.dialect.now

        rows = await self.db.write_one(
            f"INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, {now} + ?)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
            " expires_at = excluded.expires_at"
            f" WHERE leases.expires_at <= {now} OR leases.holder = excluded.holder"
            " RETURNING holder",
            (name, holder, seconds),
            durable=False,  # a lease expires: after a power cut, nobody holds anything
        )
        return bool(rows)

    async def renew_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Extend our lease; False if it is no longer ours (it expired and was taken)."""
        now = self.db.dialect.now

        rows = await self.db.write_one(
            f"UPDATE leases SET expires_at = {now} + ? WHERE name = ? AND holder = ?"
            " RETURNING name",
            (seconds, name, holder),
            durable=False,
        )
        return bool(rows)

    async def take_over_lease(self, name: str, dead: str, holder: str, seconds: float) -> bool:
        """Take ``name`` from ``dead``, a holder known to have died, before it expires; False
        if ``dead`` no longer holds it."""

        rows = await self.db.write_one(
            f"UPDATE leases SET holder = ?, expires_at = {self.db.dialect.now} + ?"
            " WHERE name = ? AND holder = ? RETURNING name",
            (holder, seconds, name, dead),
            durable=False,
        )
        return bool(rows)

    async def release_lease(self, name: str, holder: str) -> None:
        await self.db.write_one(
            "DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder), durable=False
        )

    async def lease_holder(self, name: str) -> str | None:
        """Who holds ``name`` now (None: nobody, or the lease has expired)."""
        rows = await self.db.fetch_by_key(
            f"SELECT holder FROM leases WHERE name = ? AND expires_at > {self.db.dialect.now}",
            (name,),
        )
        return str(rows[0]["holder"]) if rows else None
