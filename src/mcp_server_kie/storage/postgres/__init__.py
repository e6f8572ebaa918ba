"""PostgreSQL: one database shared by many processes and replicas (KIE_DATABASE_URL)."""

from mcp_server_kie.storage.postgres.database import DIALECT, PostgresDatabase

__all__ = ["DIALECT", "PostgresDatabase"]
