"""PostgreSQL schema migrations, applied in order and recorded in ``kie_schema``.

The tables match the SQLite schema's latest version; prompt search is a generated tsvector
of word prefixes (migration 6), and a pace slot is taken by a function (migration 7).
Append new migrations; never edit one that has shipped.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: jobs with their assets, the webhook inbox, job events, preferences.
    """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        family TEXT NOT NULL DEFAULT 'market',
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
        request_hash TEXT,
        expected_credits DOUBLE PRECISION,
        credits DOUBLE PRECISION,
        error_category TEXT,
        error_message TEXT,
        error_retryable INTEGER,
        error_provider_code TEXT,
        client_ref TEXT,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        search TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', prompt)) STORED
    );
    CREATE INDEX jobs_open ON jobs (created_at) WHERE status IN ('pending', 'processing');
    CREATE INDEX jobs_newest ON jobs (created_at DESC, id DESC);
    CREATE INDEX jobs_kind_newest ON jobs (kind, created_at DESC, id DESC);
    CREATE INDEX jobs_model_newest ON jobs (model, created_at DESC, id DESC);
    CREATE INDEX jobs_client_ref ON jobs (client_ref, created_at DESC, id DESC)
        WHERE client_ref IS NOT NULL;
    CREATE INDEX jobs_search ON jobs USING GIN (search);

    CREATE TABLE assets (
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        kind TEXT NOT NULL,
        path TEXT NOT NULL,
        mime_type TEXT NOT NULL,
        bytes BIGINT NOT NULL,
        sha256 TEXT NOT NULL,
        source_url TEXT NOT NULL,
        width INTEGER,
        height INTEGER,
        duration DOUBLE PRECISION,
        thumbnail_path TEXT,
        created_at DOUBLE PRECISION NOT NULL,
        UNIQUE (job_id, idx)
    );

    CREATE TABLE webhook_inbox (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        job_id TEXT NOT NULL,
        received_at DOUBLE PRECISION NOT NULL,
        body BYTEA NOT NULL,
        processed_at DOUBLE PRECISION
    );
    CREATE INDEX webhook_inbox_pending ON webhook_inbox (id) WHERE processed_at IS NULL;

    CREATE TABLE job_events (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        at DOUBLE PRECISION NOT NULL,
        from_status TEXT,
        to_status TEXT NOT NULL,
        cause TEXT NOT NULL
    );
    CREATE INDEX job_events_by_job ON job_events (job_id, id);

    CREATE TABLE preferences (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL
    );
    """,
    # 2: leases: who is doing a piece of shared work (a job's refresh and download), until when.
    """
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL
    );
    """,
    # 3: account-wide request pacing: recent requests to kie.ai per limit, and 429 pauses.
    """
    CREATE TABLE pace_slots (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        pace TEXT NOT NULL,
        started_at DOUBLE PRECISION NOT NULL,
        finished_at DOUBLE PRECISION
    );
    CREATE INDEX pace_slots_by_pace ON pace_slots (pace, finished_at);
    CREATE TABLE pace_pauses (
        pace TEXT PRIMARY KEY,
        until DOUBLE PRECISION NOT NULL
    );
    """,
    # 4: a bounded inbox: each stored delivery's digest, so an identical delivery for the same
    # job is stored once however often it is replayed.
    """
    ALTER TABLE webhook_inbox ADD COLUMN digest TEXT;
    CREATE UNIQUE INDEX webhook_inbox_once ON webhook_inbox (job_id, digest);
    """,
    # 5: work that comes due: when the reconciler next looks at an open job (NULL: not yet
    # scheduled), and which assets still wait for their preview (made after the job completes).
    """
    ALTER TABLE jobs ADD COLUMN check_at DOUBLE PRECISION;
    CREATE INDEX jobs_due ON jobs (check_at) WHERE status IN ('pending', 'processing');
    ALTER TABLE assets ADD COLUMN preview_pending INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX assets_preview_pending ON assets (created_at) WHERE preview_pending = 1;
    """,
    # 6: prompt search matches whole lexemes of an index of word prefixes. A prefix query
    # ('dun':*) makes GIN gather the matches of every word with that prefix before it can AND
    # them (a common prefix: 100,000s of rows at 1,000,000 jobs); an exact lexeme of the
    # prefixes vector is one posting list that GIN intersects cheaply, and ANALYZE keeps each
    # prefix's own frequency for the planner. Lexemes are to_tsvector('simple') words, as the
    # old column's, cut into their prefixes of 1 to 20 characters (storage.postgres.search).
    # Dropping the old column first lets the rewrite that adds the new one reclaim its space.
    """
    CREATE FUNCTION kie_word_prefixes(words tsvector) RETURNS tsvector
        IMMUTABLE STRICT PARALLEL SAFE LANGUAGE plpgsql AS $$
    DECLARE
        prefixes text[] := '{}';
        word text;
    BEGIN
        FOREACH word IN ARRAY tsvector_to_array(words) LOOP
            FOR size IN 1 .. least(length(word), 20) LOOP
                prefixes := prefixes || left(word, size);
            END LOOP;
        END LOOP;
        RETURN array_to_tsvector(prefixes);  -- sorted, each prefix once
    END
    $$;
    ALTER TABLE jobs DROP COLUMN search;
    ALTER TABLE jobs ADD COLUMN search_prefixes TSVECTOR
        GENERATED ALWAYS AS (kie_word_prefixes(to_tsvector('simple', prompt))) STORED;
    CREATE INDEX jobs_search_prefixes ON jobs USING GIN (search_prefixes);
    """,
    # 7: taking a pace slot is one statement (one round trip instead of five: BEGIN, the
    # pace's lock, its state, the slot, COMMIT). The rule is storage/pace.py's, step by step;
    # each statement of a function sees what committed before it (read committed), so the
    # state is read after the lock is held. The lock's key is storage.postgres's lock_key.
    """
    CREATE FUNCTION kie_take_pace_slot(
        pace_name TEXT, slot_limit INTEGER, slot_window DOUBLE PRECISION,
        stale DOUBLE PRECISION, next_look DOUBLE PRECISION,
        OUT slot BIGINT, OUT wait DOUBLE PRECISION
    ) VOLATILE LANGUAGE plpgsql AS $$
    DECLARE
        clock DOUBLE PRECISION;
        paused_until DOUBLE PRECISION;
        held BIGINT;
        counting BIGINT;
        oldest DOUBLE PRECISION;
    BEGIN
        PERFORM pg_advisory_xact_lock(('x' || left(encode(sha256(
            convert_to('pace:' || pace_name, 'UTF8')), 'hex'), 16))::bit(64)::bigint);
        clock := extract(epoch FROM clock_timestamp());
        SELECT until INTO paused_until FROM pace_pauses WHERE pace = pace_name;
        IF paused_until > clock THEN
            wait := paused_until - clock;
            RETURN;
        END IF;
        SELECT count(*),
            count(*) FILTER (WHERE finished_at > clock - slot_window
                OR (finished_at IS NULL AND started_at > clock - stale)),
            min(finished_at) FILTER (WHERE finished_at > clock - slot_window)
        INTO held, counting, oldest FROM pace_slots WHERE pace = pace_name;
        IF counting >= slot_limit THEN
            wait := coalesce(oldest + slot_window - clock, next_look);
            RETURN;
        END IF;
        IF held - counting >= slot_limit THEN
            DELETE FROM pace_slots WHERE pace = pace_name AND (finished_at <= clock - slot_window
                OR (finished_at IS NULL AND started_at <= clock - stale));
        END IF;
        INSERT INTO pace_slots (pace, started_at) VALUES (pace_name, clock) RETURNING id INTO slot;
        wait := 0;
    END
    $$;
    """,
)
