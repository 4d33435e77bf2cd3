// Run history statements on PostgreSQL (and PGlite): dbbeat_run (migrations/0007).
// The beat's own statements are in statements.ts; these are the same names as in
// ../mysql/run-statements.ts.
import { lateMsColumn, type RunEntry } from '../store.js';
import { booleanArray, epochMsToTimestamptz, nullableNumberArray, numberArray, textArray } from './array-literal.js';

/**
 * Adds run-history rows; a task id already there (a re-send after a crash) is left alone.
 * One array literal per column (array-literal.ts): $1 int[] periodic_task_id; $2 text[]
 * periodic_task_name; $3 text[] task; $4 text[] task_id; $5 float8[] scheduled_at and
 * $6 float8[] sent_at as whole epoch ms; $7 int[] late_ms; $8 text[] broker; $9 text[]
 * queue; $10 bool[] manual; $11 text[] state.
 */
export const INSERT_RUNS = `
INSERT INTO dbbeat_run (periodic_task_id, periodic_task_name, task, task_id, scheduled_at, sent_at,
                        late_ms, broker, queue, manual, state)
SELECT h.periodic_task_id, h.periodic_task_name, h.task, h.task_id,
       ${epochMsToTimestamptz('h.scheduled_at')}, ${epochMsToTimestamptz('h.sent_at')},
       h.late_ms, h.broker, h.queue, h.manual, h.state
FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[],
            $7::int[], $8::text[], $9::text[], $10::bool[], $11::text[])
     AS h(periodic_task_id, periodic_task_name, task, task_id, scheduled_at, sent_at, late_ms, broker, queue, manual, state)
ON CONFLICT (task_id) DO NOTHING`;

/** INSERT_RUNS's parameters for these rows. */
export function insertRunsParams(entries: readonly RunEntry[]): string[] {
  return [
    numberArray(entries.map((h) => h.periodicTaskId)),
    textArray(entries.map((h) => h.periodicTaskName)),
    textArray(entries.map((h) => h.task)),
    textArray(entries.map((h) => h.taskId)),
    nullableNumberArray(entries.map((h) => (h.scheduledAt === null ? null : Math.trunc(h.scheduledAt)))),
    numberArray(entries.map((h) => Math.trunc(h.sentAt))),
    nullableNumberArray(entries.map((h) => lateMsColumn(h.lateMs))),
    textArray(entries.map((h) => h.broker)),
    textArray(entries.map((h) => h.queue)),
    booleanArray(entries.map((h) => h.manual)),
    textArray(entries.map((h) => h.state)),
  ];
}

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

/** Run states after which nothing moves a run (FINISHED_STATES, and SKIPPED which has no task id). */
const FINISHED = `'SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED', 'SKIPPED'`;

/**
 * Whether update u moves run r's state: outcomeMoves of src/db/outcome-fold.ts in SQL (the
 * same rules, the same order). PostgreSQL evaluates every SET expression on the old row.
 */
const MOVES = `(CASE
  WHEN r.state IN (${FINISHED}) THEN false
  WHEN u.state = 'LOST' THEN r.state <> 'LOST'
  WHEN r.state = 'LOST' THEN true
  WHEN u.state IN ('SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED', 'RETRY') OR u.after_retry THEN true
  WHEN r.state = 'RETRY' THEN u.state IN ('RECEIVED', 'STARTED')
  ELSE (CASE u.state WHEN 'SENT' THEN 0 WHEN 'RECEIVED' THEN 1 WHEN 'STARTED' THEN 2 ELSE -1 END)
    >= (CASE r.state WHEN 'RECEIVED' THEN 1 WHEN 'STARTED' THEN 2 ELSE 0 END)
END)`;

/** u replaces the outcome columns (replacesOutcome): a finished state or RETRY. */
const REPLACES = `u.state IN ('SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED', 'RETRY')`;

/** A trace column (received_at, started_at, worker): the newer value when moving, else only filled. */
const trace = (column: string) =>
  `${column} = CASE WHEN ${MOVES} THEN COALESCE(u.${column}, r.${column}) ELSE COALESCE(r.${column}, u.${column}) END`;
/** An outcome column: replaced by a finished state or RETRY, kept where a moving open state has none. */
const outcome = (column: string) =>
  `${column} = CASE WHEN NOT ${MOVES} THEN r.${column} WHEN ${REPLACES} THEN u.${column} ELSE COALESCE(u.${column}, r.${column}) END`;

/**
 * Applies a batch of outcomes (folded: one per task id, see foldOutcomes) to the runs with
 * those task ids, by the rules of outcomeMoves; task ids not in dbbeat_run match nothing.
 * Returns the rows updated: task_id, state (after), previous (the state before, read from a
 * self-join, since RETURNING sees only the new row) and runtime. One array per column:
 * $1 text[] task_id; $2 text[] state; $3 bool[] after_retry; $4 float8[] received_at,
 * $5 float8[] started_at, $6 float8[] finished_at as epoch ms (null: none); $7 float8[]
 * runtime (s); $8 text[] worker; $9 text[] result; $10 text[] exception_type;
 * $11 text[] exception_message; $12 text[] traceback.
 */
export const APPLY_OUTCOMES = `
WITH u AS (
  SELECT o.task_id, o.state, o.after_retry,
         to_timestamp(o.received_at / 1000) AS received_at, to_timestamp(o.started_at / 1000) AS started_at,
         to_timestamp(o.finished_at / 1000) AS finished_at, o.runtime, o.worker, o.result,
         o.exception_type, o.exception_message, o.traceback
  FROM unnest($1::text[], $2::text[], $3::bool[], $4::float8[], $5::float8[], $6::float8[], $7::float8[],
              $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
       AS o(task_id, state, after_retry, received_at, started_at, finished_at, runtime, worker, result,
            exception_type, exception_message, traceback)),
changed AS (
  UPDATE dbbeat_run r SET
    state = CASE WHEN ${MOVES} THEN u.state ELSE r.state END,
    ${trace('received_at')},
    ${trace('started_at')},
    ${trace('worker')},
    ${outcome('finished_at')},
    ${outcome('runtime')},
    ${outcome('result')},
    ${outcome('exception_type')},
    ${outcome('exception_message')},
    ${outcome('traceback')},
    updated_at = now()
  FROM u, dbbeat_run o
  WHERE r.task_id = u.task_id AND o.id = r.id
    AND (${MOVES}
         OR (r.received_at IS NULL AND u.received_at IS NOT NULL)
         OR (r.started_at IS NULL AND u.started_at IS NOT NULL)
         OR (r.worker IS NULL AND u.worker IS NOT NULL))
  RETURNING r.task_id, r.state, o.state AS previous, r.runtime)
SELECT task_id, state, previous, runtime FROM changed`;

/**
 * Up to $2 runs still waiting for an outcome (SENT, RECEIVED, STARTED, RETRY) sent before
 * $1 with an id above $3, by id (oldest first), sent_at as epoch ms. $1 float8 epoch ms;
 * $2 int rows; $3 bigint id (0: from the start).
 */
export const OPEN_RUNS = `
SELECT id, task_id, (extract(epoch FROM sent_at) * 1000)::float8 AS sent_at, state
FROM dbbeat_run
WHERE state IN ('SENT', 'RECEIVED', 'STARTED', 'RETRY') AND sent_at < to_timestamp($1::float8 / 1000)
  AND task_id IS NOT NULL AND id > $3::bigint
ORDER BY id
LIMIT $2`;

// ---- Reading (RunHistory): dbbeat runs, /api/runs, failing tasks ----

/** A timestamptz as epoch ms (float8; null stays null). */
const ms = (column: string) => `floor(extract(epoch FROM ${column}) * 1000)::float8`;

/** Every column of a run as RunRecordView reads it (times as epoch ms). */
const RUN_COLUMNS = `
  id, periodic_task_id, periodic_task_name, task, task_id, ${ms('scheduled_at')} AS scheduled_at,
  ${ms('sent_at')} AS sent_at, late_ms, broker, queue, manual, state, ${ms('received_at')} AS received_at,
  ${ms('started_at')} AS started_at, ${ms('finished_at')} AS finished_at, runtime, worker, result,
  exception_type, exception_message, traceback`;

/**
 * Runs newest first by id (the primary key, walked backwards; ids follow send order), any task.
 * $1 text periodic_task_name or null; $2 text state or null; $3 float8 since (epoch ms) or null;
 * $4 bigint before (id) or null; $5 int limit.
 */
export const LIST_RUNS = `
SELECT ${RUN_COLUMNS}
FROM dbbeat_run
WHERE ($1::text IS NULL OR periodic_task_name = $1)
  AND ($2::text IS NULL OR state = $2)
  AND ($3::float8 IS NULL OR sent_at >= to_timestamp($3 / 1000))
  AND ($4::bigint IS NULL OR id < $4)
ORDER BY id DESC
LIMIT $5`;

/**
 * One periodic task's runs, newest first by send time then id (the index
 * dbbeat_run_task_sent_idx). `before` is a run id: runs sent before it (ties: lower id).
 * $1 int periodic_task_id; $2 text state or null; $3 float8 since (epoch ms) or null;
 * $4 bigint before (id) or null; $5 int limit.
 */
export const LIST_TASK_RUNS = `
SELECT ${RUN_COLUMNS}
FROM dbbeat_run
WHERE periodic_task_id = $1
  AND ($2::text IS NULL OR state = $2)
  AND ($3::float8 IS NULL OR sent_at >= to_timestamp($3 / 1000))
  AND ($4::bigint IS NULL OR (sent_at, id) < (SELECT b.sent_at, b.id FROM dbbeat_run b WHERE b.id = $4))
ORDER BY sent_at DESC, id DESC
LIMIT $5`;

/**
 * Enabled tasks whose last $1 decided runs (SUCCESS, FAILURE, REVOKED, REJECTED, LOST) are
 * all FAILURE, or whose last decided run is LOST; each task's runs read through the
 * (periodic_task_id, sent_at) index, $1 rows at most.
 * $1 int K; $2 int[] periodic task ids, or null for every enabled task.
 * Row: the task, the reason, how many of the K failed, and its last decided run.
 */
export const FAILING_TASKS = `
WITH last AS (
  SELECT t.id AS periodic_task_id, t.name AS periodic_task_name, l.*,
         row_number() OVER (PARTITION BY t.id ORDER BY l.sent_at DESC, l.id DESC) AS n
  FROM django_celery_beat_periodictask t
  CROSS JOIN LATERAL (
    SELECT r.id, r.task_id, r.state, r.sent_at, r.exception_type, r.exception_message
    FROM dbbeat_run r
    WHERE r.periodic_task_id = t.id AND r.state IN ('SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED', 'LOST')
    ORDER BY r.sent_at DESC, r.id DESC
    LIMIT $1) l
  WHERE t.enabled AND ($2::int[] IS NULL OR t.id = ANY($2::int[]))
)
SELECT f.periodic_task_id, f.periodic_task_name, f.reason, f.failures,
       l.id, l.task_id, l.state, ${ms('l.sent_at')} AS sent_at, l.exception_type, l.exception_message
FROM (
  SELECT periodic_task_id, min(periodic_task_name) AS periodic_task_name,
         count(*) FILTER (WHERE state = 'FAILURE')::int AS failures,
         CASE WHEN bool_or(n = 1 AND state = 'LOST') THEN 'lost' ELSE 'failures' END AS reason
  FROM last
  GROUP BY periodic_task_id
  HAVING bool_or(n = 1 AND state = 'LOST') OR (count(*) = $1 AND bool_and(state = 'FAILURE'))
) f
JOIN last l ON l.periodic_task_id = f.periodic_task_id AND l.n = 1
ORDER BY f.periodic_task_name`;

/** The id of the periodic task of this name. $1 text name. */
export const TASK_ID_BY_NAME = `SELECT id FROM django_celery_beat_periodictask WHERE name = $1`;
