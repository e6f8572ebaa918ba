"""Schema migrations, applied in order and keyed on ``PRAGMA user_version``.

Append new migrations; never edit one that has shipped.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: jobs, their output assets, the webhook inbox and the job event history.
    """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('image', 'video')),
        model TEXT NOT NULL,
        prompt TEXT NOT NULL,
        params TEXT NOT NULL,
        status TEXT NOT NULL
            CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
        task_id TEXT UNIQUE,
        task_state TEXT,
        callback_token_hash TEXT,
        callback_expected INTEGER NOT NULL DEFAULT 0,
        idempotency_key TEXT UNIQUE,
        expected_credits REAL,
        credits REAL,
        error_category TEXT,
        error_message TEXT,
        error_retryable INTEGER,
        error_provider_code TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX jobs_open ON jobs (created_at) WHERE status IN ('pending', 'processing');
    CREATE INDEX jobs_newest ON jobs (created_at DESC, id DESC);

    CREATE TABLE assets (
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        kind TEXT NOT NULL,
        path TEXT NOT NULL,
        mime_type TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        source_url TEXT NOT NULL,
        width INTEGER,
        height INTEGER,
        duration REAL,
        created_at REAL NOT NULL,
        UNIQUE (job_id, idx)
    );

    CREATE TABLE webhook_inbox (
        id INTEGER PRIMARY KEY,
        job_id TEXT NOT NULL,
        received_at REAL NOT NULL,
        body BLOB NOT NULL,
        processed_at REAL
    );
    CREATE INDEX webhook_inbox_pending ON webhook_inbox (id) WHERE processed_at IS NULL;

    CREATE TABLE job_events (
        id INTEGER PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        at REAL NOT NULL,
        from_status TEXT,
        to_status TEXT NOT NULL,
        cause TEXT NOT NULL
    );
    CREATE INDEX job_events_by_job ON job_events (job_id, id);
    """,
    # 2: which kie.ai API family serves the job (they differ in endpoints and shapes).
    """
    ALTER TABLE jobs ADD COLUMN family TEXT NOT NULL DEFAULT 'market';
    """,
    # 3: the media library: thumbnails, a caller's reference (e.g. a canvas node id), prompt
    # search (a standalone FTS5 table keyed by job id: rowids of a TEXT-keyed table may change
    # on VACUUM) and indexes for keyset paging by kind and model.
    """
    ALTER TABLE assets ADD COLUMN thumbnail_path TEXT;
    ALTER TABLE jobs ADD COLUMN client_ref TEXT;
    CREATE INDEX jobs_kind_newest ON jobs (kind, created_at DESC, id DESC);
    CREATE INDEX jobs_model_newest ON jobs (model, created_at DESC, id DESC);
    CREATE INDEX jobs_client_ref ON jobs (client_ref, created_at DESC, id DESC)
        WHERE client_ref IS NOT NULL;
    CREATE VIRTUAL TABLE jobs_fts USING fts5 (
        job_id UNINDEXED, prompt, tokenize = 'unicode61 remove_diacritics 2'
    );
    INSERT INTO jobs_fts (job_id, prompt) SELECT id, prompt FROM jobs;
    CREATE TRIGGER jobs_fts_insert AFTER INSERT ON jobs BEGIN
        INSERT INTO jobs_fts (job_id, prompt) VALUES (new.id, new.prompt);
    END;
    CREATE TRIGGER jobs_fts_delete AFTER DELETE ON jobs BEGIN
        DELETE FROM jobs_fts WHERE job_id = old.id;
    END;
    """,
    # 4: the user's defaults (the settings page of a media generator), one JSON value per key.
    """
    CREATE TABLE preferences (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    """,
    # 5: audio is a media kind. SQLite cannot change a CHECK in place, so jobs is rebuilt; its
    # children are rebuilt beside it (dropping jobs first would cascade-delete them), then the
    # new tables take the old names (references follow renames) and the indexes come back.
    """
    CREATE TABLE jobs_v5 (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('image', 'video', 'audio')),
        model TEXT NOT NULL,
        prompt TEXT NOT NULL,
        params TEXT NOT NULL,
        status TEXT NOT NULL
            CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
        task_id TEXT UNIQUE,
        task_state TEXT,
        callback_token_hash TEXT,
        callback_expected INTEGER NOT NULL DEFAULT 0,
        idempotency_key TEXT UNIQUE,
        expected_credits REAL,
        credits REAL,
        error_category TEXT,
        error_message TEXT,
        error_retryable INTEGER,
        error_provider_code TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        family TEXT NOT NULL DEFAULT 'market',
        client_ref TEXT
    );
    INSERT INTO jobs_v5 (id, kind, model, prompt, params, status, task_id, task_state,
        callback_token_hash, callback_expected, idempotency_key, expected_credits, credits,
        error_category, error_message, error_retryable, error_provider_code, created_at,
        updated_at, family, client_ref)
    SELECT id, kind, model, prompt, params, status, task_id, task_state,
        callback_token_hash, callback_expected, idempotency_key, expected_credits, credits,
        error_category, error_message, error_retryable, error_provider_code, created_at,
        updated_at, family, client_ref FROM jobs;
    CREATE TABLE assets_v5 (
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs_v5 (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        kind TEXT NOT NULL,
        path TEXT NOT NULL,
        mime_type TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        source_url TEXT NOT NULL,
        width INTEGER,
        height INTEGER,
        duration REAL,
        created_at REAL NOT NULL,
        thumbnail_path TEXT,
        UNIQUE (job_id, idx)
    );
    INSERT INTO assets_v5 (id, job_id, idx, kind, path, mime_type, bytes, sha256, source_url,
        width, height, duration, created_at, thumbnail_path)
    SELECT id, job_id, idx, kind, path, mime_type, bytes, sha256, source_url,
        width, height, duration, created_at, thumbnail_path FROM assets;
    CREATE TABLE job_events_v5 (
        id INTEGER PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs_v5 (id) ON DELETE CASCADE,
        at REAL NOT NULL,
        from_status TEXT,
        to_status TEXT NOT NULL,
        cause TEXT NOT NULL
    );
    INSERT INTO job_events_v5 (id, job_id, at, from_status, to_status, cause)
    SELECT id, job_id, at, from_status, to_status, cause FROM job_events;
    DROP TABLE job_events;
    DROP TABLE assets;
    DROP TABLE jobs;
    ALTER TABLE jobs_v5 RENAME TO jobs;
    ALTER TABLE assets_v5 RENAME TO assets;
    ALTER TABLE job_events_v5 RENAME TO job_events;
    CREATE INDEX jobs_open ON jobs (created_at) WHERE status IN ('pending', 'processing');
    CREATE INDEX jobs_newest ON jobs (created_at DESC, id DESC);
    CREATE INDEX jobs_kind_newest ON jobs (kind, created_at DESC, id DESC);
    CREATE INDEX jobs_model_newest ON jobs (model, created_at DESC, id DESC);
    CREATE INDEX jobs_client_ref ON jobs (client_ref, created_at DESC, id DESC)
        WHERE client_ref IS NOT NULL;
    CREATE INDEX job_events_by_job ON job_events (job_id, id);
    CREATE TRIGGER jobs_fts_insert AFTER INSERT ON jobs BEGIN
        INSERT INTO jobs_fts (job_id, prompt) VALUES (new.id, new.prompt);
    END;
    CREATE TRIGGER jobs_fts_delete AFTER DELETE ON jobs BEGIN
        DELETE FROM jobs_fts WHERE job_id = old.id;
    END;
    """,
    # 6: the fingerprint of the request an idempotency key was first used for.
    """
    ALTER TABLE jobs ADD COLUMN request_hash TEXT;
    """,
    # 7: leases: who is doing a piece of shared work (a job's refresh and download), until when.
    """
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at REAL NOT NULL
    );
    """,
    # 8: account-wide request pacing: recent requests to kie.ai per limit, and 429 pauses.
    """
    CREATE TABLE pace_slots (
        id INTEGER PRIMARY KEY,
        pace TEXT NOT NULL,
        started_at REAL NOT NULL,
        finished_at REAL
    );
    CREATE INDEX pace_slots_by_pace ON pace_slots (pace, finished_at);
    CREATE TABLE pace_pauses (
        pace TEXT PRIMARY KEY,
        until REAL NOT NULL
    );
    """,
    # 9: a bounded inbox: each stored delivery's digest, so an identical delivery for the same
    # job is stored once however often it is replayed.
    """
    ALTER TABLE webhook_inbox ADD COLUMN digest TEXT;
    CREATE UNIQUE INDEX webhook_inbox_once ON webhook_inbox (job_id, digest);
    """,
    # 10: work that comes due: when the reconciler next looks at an open job (NULL: not yet
    # scheduled), and which assets still wait for their preview (made after the job completes).
    """
    ALTER TABLE jobs ADD COLUMN check_at REAL;
    CREATE INDEX jobs_due ON jobs (check_at) WHERE status IN ('pending', 'processing');
    ALTER TABLE assets ADD COLUMN preview_pending INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX assets_preview_pending ON assets (created_at) WHERE preview_pending = 1;
    """,
    # 11: prompt search reads the index newest first and stops after a page (see
    # storage.sqlite.search): the index's rowid becomes the creation time in whole microseconds
    # times 1024 plus a counter within the microsecond, and prefix indexes answer every word
    # prefix up to 20 characters without merging the lists of all words that share it. The
    # trigger finds the microsecond's last rowid in the index's own rowid table (jobs_fts_content).
    """
    DROP TRIGGER jobs_fts_insert;
    DROP TRIGGER jobs_fts_delete;
    DROP TABLE jobs_fts;
    CREATE VIRTUAL TABLE jobs_fts USING fts5 (
        job_id UNINDEXED, prompt, tokenize = 'unicode61 remove_diacritics 2',
        prefix = '1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20'
    );
    INSERT INTO jobs_fts (rowid, job_id, prompt)
    SELECT bucket * 1024 + row_number() OVER (PARTITION BY bucket ORDER BY created_at, id) - 1,
        id, prompt
    FROM (SELECT CAST(max(created_at, 0) * 1000000 AS INTEGER) AS bucket, created_at, id, prompt
        FROM jobs)
    ORDER BY 1;
    CREATE TRIGGER jobs_fts_insert AFTER INSERT ON jobs BEGIN
        INSERT INTO jobs_fts (rowid, job_id, prompt)
        SELECT CASE WHEN last = lo + 1023
                THEN RAISE(ABORT, 'more than 1024 jobs created in one microsecond')
                ELSE coalesce(last + 1, lo) END,
            new.id,
            new.prompt
        FROM (SELECT lo, (SELECT max(id) FROM jobs_fts_content WHERE id BETWEEN lo AND lo + 1023)
                AS last
            FROM (SELECT CAST(max(new.created_at, 0) * 1000000 AS INTEGER) * 1024 AS lo));
    END;
    CREATE TRIGGER jobs_fts_delete AFTER DELETE ON jobs BEGIN
        DELETE FROM jobs_fts WHERE job_id = old.id
            AND rowid >= CAST(max(old.created_at, 0) * 1000000 AS INTEGER) * 1024
            AND rowid < CAST(max(old.created_at, 0) * 1000000 AS INTEGER) * 1024 + 1024;
    END;
    """,
)
