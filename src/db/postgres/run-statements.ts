// Run history statements on PostgreSQL (and PGlite): dbbeat_run (migrations/0007).
// The beat's own statements are in statements.ts; these are the same names as in
// ../mysql/run-statements.ts.

/**
 * Adds run-history rows; a task id already there (a re-send after a crash) is left alone.
 * One array per column: $1 int[] periodic_task_id; $2 text[] periodic_task_name; $3 text[] task;
 * $4 text[] task_id; $5 float8[] scheduled_at and $6 float8[] sent_at as epoch ms (numbers
 * serialise far faster than dates); $7 int[] late_ms; $8 text[] broker; $9 text[] queue;
 * $10 bool[] manual; $11 text[] state.
 */
export const INSERT_RUNS = `
INSERT INTO dbbeat_run (periodic_task_id, periodic_task_name, task, task_id, scheduled_at, sent_at,
                        late_ms, broker, queue, manual, state)
SELECT h.periodic_task_id, h.periodic_task_name, h.task, h.task_id,
       to_timestamp(h.scheduled_at / 1000), to_timestamp(h.sent_at / 1000),
       h.late_ms, h.broker, h.queue, h.manual, h.state
FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[],
            $7::int[], $8::text[], $9::text[], $10::bool[], $11::text[])
     AS h(periodic_task_id, periodic_task_name, task, task_id, scheduled_at, sent_at, late_ms, broker, queue, manual, state)
ON CONFLICT (task_id) DO NOTHING`;

/**
 * Deletes up to $3 history rows that are older than $1 days or beyond the newest $2 rows,
 * oldest first. Returns how many went (call again while it is $3).
 * $1 float8 days; $2 int rows kept; $3 int rows per call.
 */
export const PRUNE_RUNS = `
WITH cap AS (SELECT id FROM dbbeat_run ORDER BY id DESC OFFSET $2 LIMIT 1),
doomed AS (
  SELECT id FROM dbbeat_run
  WHERE sent_at < now() - make_interval(secs => $1 * 86400) OR id <= (SELECT id FROM cap)
  ORDER BY id LIMIT $3),
gone AS (DELETE FROM dbbeat_run WHERE id IN (SELECT id FROM doomed) RETURNING 1)
SELECT count(*)::int AS deleted FROM gone`;
