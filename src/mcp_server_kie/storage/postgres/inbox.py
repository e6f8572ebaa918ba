"""A batch of webhook deliveries stored by one statement (Dialect.keep_batch).

The rule is storage.inbox's, applied to each delivery in its turn: it is stored when its job
is running, the job's inbox holds fewer than its ``max_rows`` rows, and the same body is not
stored for the job already. One statement applies it to the whole batch, in one round trip
(a transaction of one INSERT per delivery takes three: BEGIN, the INSERTs, COMMIT, and on a
busy machine each waits for the server to be scheduled). Its k-th new body for a job is
stored when the rows the job held before the batch, plus k, are within the limit; repeats of
a body within the batch are not new; the rows are stored in turn order (their ids follow it).

It answers one row per delivery, in turn order: whether it was stored, and the job as it
stood before the batch (known, running, rows held), from which the store tells apart why
a delivery was not stored.
"""

from __future__ import annotations

from mcp_server_kie.storage.records import OPEN_STATUSES

# Parameters: arrays of turns, job ids, bodies, digests and row limits; then the time.
KEEP_BATCH = f"""
WITH batch AS (
    SELECT * FROM unnest(?::int[], ?::text[], ?::bytea[], ?::text[], ?::int[])
        AS b (turn, job_id, body, digest, max_rows)
), standing AS (
    SELECT j.id, j.status IN {OPEN_STATUSES} AS running,
           (SELECT count(*) FROM webhook_inbox w WHERE w.job_id = j.id) AS held
    FROM jobs j WHERE j.id IN (SELECT job_id FROM batch)
), fresh AS (
    SELECT DISTINCT ON (b.job_id, b.digest) b.* FROM batch b
    WHERE NOT EXISTS
        (SELECT 1 FROM webhook_inbox w WHERE w.job_id = b.job_id AND w.digest = b.digest)
    ORDER BY b.job_id, b.digest, b.turn
), placed AS (
    SELECT f.*, row_number() OVER (PARTITION BY f.job_id ORDER BY f.turn) AS nth FROM fresh f
), stored AS (
    INSERT INTO webhook_inbox (job_id, received_at, body, digest)
    SELECT p.job_id, ?, p.body, p.digest FROM placed p JOIN standing s ON s.id = p.job_id
    WHERE s.running AND s.held + p.nth <= p.max_rows
    ORDER BY p.turn
    ON CONFLICT (job_id, digest) DO NOTHING
    RETURNING job_id, digest
)
SELECT b.turn, p.turn IS NOT NULL AS stored, s.id IS NOT NULL AS known,
       coalesce(s.running, false) AS running, coalesce(s.held, 0) AS held
FROM batch b
LEFT JOIN standing s ON s.id = b.job_id
LEFT JOIN (stored JOIN placed p USING (job_id, digest)) ON p.turn = b.turn
ORDER BY b.turn
"""
