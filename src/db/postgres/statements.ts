// Every statement the beat runs on PostgreSQL (and PGlite), one named constant each,
// with its parameters; store.ts runs them behind the BeatStore interface. Table and
// column names are django-celery-beat's; dbbeat_* tables are ours (created by migrations/).
import { epochMsToTimestamptz } from './array-literal.js';

/** A timestamptz as epoch milliseconds (float8): the driver parses a number far faster than a date. */
const epochMs = (column: string) => `floor(extract(epoch FROM ${column}) * 1000)::float8`;

/** The task's own columns (no joins), times as epoch ms. */
const OWN_COLUMNS = `
  t.id, t.name, t.task, t.args, t.kwargs, t.headers, t.queue, t.exchange, t.routing_key,
  t.priority, ${epochMs('t.expires')} AS expires, t.expire_seconds, t.one_off,
  ${epochMs('t.start_time')} AS start_time, t.enabled, ${epochMs('t.last_run_at')} AS last_run_at,
  t.total_run_count, ${epochMs('t.date_changed')} AS date_changed,
  t.crontab_id, t.interval_id, t.solar_id, t.clocked_id`;

/** Columns of a task row (`t`, as OWN_COLUMNS names them) joined with its schedules, as TaskRow (../store.ts) names them. */
const TASK_COLUMNS = `
  t.*, c.minute AS c_minute, c.hour AS c_hour, c.day_of_week AS c_day_of_week,
  c.day_of_month AS c_day_of_month, c.month_of_year AS c_month_of_year, c.timezone AS c_timezone,
  i.every AS i_every, i.period AS i_period,
  s.event AS s_event, s.latitude::float8 AS s_latitude, s.longitude::float8 AS s_longitude,
  ${epochMs('k.clocked_time')} AS k_clocked_time`;

const SCHEDULE_JOINS = `
  LEFT JOIN django_celery_beat_crontabschedule c ON c.id = t.crontab_id
  LEFT JOIN django_celery_beat_intervalschedule i ON i.id = t.interval_id
  LEFT JOIN django_celery_beat_solarschedule s ON s.id = t.solar_id
  LEFT JOIN django_celery_beat_clockedschedule k ON k.id = t.clocked_id`;

/**
 * The load's page read: enabled tasks with `after` < id ≤ `upTo`, at most `limit`, in id
 * order, `columns` of the task row `t` only. No join, and the range is bounded on both
 * sides: the plan is a scan of that range of the primary key whatever the planner's
 * statistics (see ../id-ranges.ts). Each bound is SQL: a parameter or a checked number.
 * Shared by LOAD_ENABLED_TASKS_RANGE and the binary COPY (enabled-tasks-copy.ts).
 */
export function enabledTasksInRange(columns: string, after: string, upTo: string, limit: string): string {
  return `
SELECT ${columns}
FROM django_celery_beat_periodictask t
WHERE t.enabled AND t.id > ${after} AND t.id <= ${upTo}
ORDER BY t.id
LIMIT ${limit}`;
}

/**
 * Enabled tasks in a range of ids, their own columns only (times as epoch ms), in id order
 * (enabledTasksInRange); SCHEDULES_BY_IDS reads the schedules the page uses.
 * $1 bigint: ids above this; $2 bigint: ids up to this; $3 int: at most this many rows.
 */
export const LOAD_ENABLED_TASKS_RANGE = enabledTasksInRange(OWN_COLUMNS, '$1::bigint', '$2::bigint', '$3');

/**
 * The lowest id of an enabled task above $1 (null: none), found by walking the primary key
 * from $1 on (min() over an indexed column is planned as such, whatever the statistics).
 * $1 bigint.
 */
export const NEXT_ENABLED_TASK_ID = `
SELECT min(id)::float8 AS next FROM django_celery_beat_periodictask WHERE enabled AND id > $1::bigint`;

/**
 * The schedule rows with these ids, as one row of four JSON arrays (c, i, s, k; null when
 * none), columns as ../schedule-join.ts names them, clocked_time as epoch ms.
 * $1 int[] crontab ids; $2 int[] interval ids; $3 int[] solar ids; $4 int[] clocked ids.
 */
export const SCHEDULES_BY_IDS = `
SELECT
  (SELECT json_agg(json_build_object('id', c.id, 'minute', c.minute, 'hour', c.hour,
     'day_of_week', c.day_of_week, 'day_of_month', c.day_of_month, 'month_of_year', c.month_of_year,
     'timezone', c.timezone))
   FROM django_celery_beat_crontabschedule c WHERE c.id = ANY($1::int[])) AS c,
  (SELECT json_agg(json_build_object('id', i.id, 'every', i.every, 'period', i.period))
   FROM django_celery_beat_intervalschedule i WHERE i.id = ANY($2::int[])) AS i,
  (SELECT json_agg(json_build_object('id', s.id, 'event', s.event, 'latitude', s.latitude::float8,
     'longitude', s.longitude::float8))
   FROM django_celery_beat_solarschedule s WHERE s.id = ANY($3::int[])) AS s,
  (SELECT json_agg(json_build_object('id', k.id, 'clocked_time', ${epochMs('k.clocked_time')}))
   FROM django_celery_beat_clockedschedule k WHERE k.id = ANY($4::int[])) AS k`;

/**
 * The task, schedule and change-log tables whose planner statistics are missing (never analysed) or
 * far behind (more rows changed since the last ANALYZE than 20 % of the table plus 10,000:
 * a bulk insert autovacuum has not caught up with). Without statistics the planner takes
 * a million-row table for some 70,000 rows and pages through it by sequential scans and
 * sorts, which re-read the whole table for every page; and it reads the change log (a row
 * per task of the bulk insert) by a parallel sequential scan before every batch it sends.
 * No parameters.
 */
export const TABLES_WITHOUT_STATISTICS = `
SELECT c.relname::text AS name
FROM pg_class c
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.oid IN ('django_celery_beat_periodictask'::regclass, 'django_celery_beat_crontabschedule'::regclass,
                'django_celery_beat_intervalschedule'::regclass, 'django_celery_beat_solarschedule'::regclass,
                'django_celery_beat_clockedschedule'::regclass, 'dbbeat_change'::regclass)
  AND (c.reltuples < 0 OR coalesce(s.n_mod_since_analyze, 0) > 0.2 * greatest(c.reltuples, 0) + 10000)`;

/** The tasks with these ids, enabled or not. $1 int[]: task ids. */
export const LOAD_BY_IDS = `
WITH t AS MATERIALIZED (
  SELECT ${OWN_COLUMNS}
  FROM django_celery_beat_periodictask t
  WHERE t.id = ANY($1::int[]))
SELECT ${TASK_COLUMNS}
FROM t ${SCHEDULE_JOINS}`;

/**
 * Ids of the tasks that use any of the given schedules.
 * $1 int[] crontab ids; $2 int[] interval ids; $3 int[] solar ids; $4 int[] clocked ids.
 */
export const TASKS_OF_SCHEDULES = `
SELECT id FROM django_celery_beat_periodictask
WHERE crontab_id = ANY($1::int[]) OR interval_id = ANY($2::int[])
   OR solar_id = ANY($3::int[]) OR clocked_id = ANY($4::int[])`;

/**
 * Where a change feed starts: the highest change id, and the ids missing among the
 * recent ones (taken by transactions not committed yet, or rolled back). Only the last
 * 100,000 ids are searched for holes, so a start right after a bulk write stays cheap.
 * The usual answer, no hole, comes from a count: when the recent rows fill every id from
 * the lowest to the top, the window that lists holes is not run (at 100,000 fresh
 * changes, 46 ms against 119 ms).
 * $1 float8: how far back "recent" goes, in seconds.
 */
export const CHANGE_FEED_START = `
WITH top AS (SELECT coalesce(max(id), 0) AS top FROM dbbeat_change),
recent_span AS (
  SELECT count(*) AS rows, min(c.id) AS low
  FROM dbbeat_change c, top
  WHERE c.id > top.top - 100000 AND c.changed_at >= now() - make_interval(secs => $1)
)
SELECT top.top::float8 AS top,
       CASE WHEN recent_span.rows = 0 OR recent_span.rows = top.top - recent_span.low + 1 THEN '{}'::float8[]
       -- The recent rows' filter is written again here: a CTE used twice would be
       -- materialized, and the count's fast answer would pay for this scan too.
       ELSE coalesce((SELECT array_agg(g::float8)
                      FROM (SELECT c.id, lead(c.id) OVER (ORDER BY c.id) AS next_id
                            FROM dbbeat_change c
                            WHERE c.id > top.top - 100000
                              AND c.changed_at >= now() - make_interval(secs => $1)) AS recent,
                           generate_series(recent.id + 1, recent.next_id - 1) AS g
                      WHERE recent.next_id > recent.id + 1), '{}') END AS missing
FROM top, recent_span`;

/**
 * Changes above the highest id read, and those of the holes below it, in id order, with
 * each one's age (ms since its write, by the database's clock).
 * $1 bigint: the highest id read; $2 bigint[]: the holes.
 */
export const READ_CHANGES_AFTER = `
SELECT id::float8 AS id, table_name, row_id,
  (EXTRACT(EPOCH FROM clock_timestamp() - changed_at) * 1000)::float8 AS age_ms
FROM dbbeat_change
WHERE id > $1::bigint OR id = ANY($2::bigint[])
ORDER BY id`;

/** The database's clock, for the clock-skew check. No parameters. */
export const DATABASE_CLOCK = `SELECT clock_timestamp() AS clock`;

/**
 * The fence every beat write starts with: the lease row, locked FOR SHARE, only while
 * this token holds it by the clock of this moment. The lock is what makes the check hold
 * until the write commits: a new leader's ACQUIRE_LEASE (an UPDATE of that row) waits
 * for it, and a write that had to wait for a lease change is re-checked (READ COMMITTED
 * re-reads a locked row's newest version) against the new token. clock_timestamp(), not
 * now(): now() is when the statement started, which a wait can leave far behind.
 * $L1 text lease name; $L2 bigint token (spliced in with the caller's parameter numbers).
 */
function fencedLease(name: string, token: string): string {
  return `SELECT l.token FROM dbbeat_lease l
    WHERE l.name = ${name} AND l.token = ${token} AND l.expires_at > clock_timestamp()
    FOR SHARE`;
}

/**
 * Records runs the broker accepted, in one statement, only while this process still
 * holds the lease with this fencing token: a leader that lost its lease writes nothing.
 * Rows locked by another transaction are skipped, not waited for (SKIP LOCKED): an open
 * transaction on one task must never hold up the others; the caller keeps those records
 * and tries again later.
 * $1 int[] task ids (each once); $2 float8[] last_run_at as whole epoch ms; $3 int[] runs
 * to add; $4 bool[] disable (one-off tasks after their run); $5 text lease name; $6 bigint
 * token. The arrays come as literals (array-literal.ts).
 * Returns one row: held (the fence held), written int[] (ids written), locked int[]
 * (ids that exist but were locked by someone else).
 */
export const RECORD_RUNS = `
WITH lease AS (${fencedLease('$5', '$6')}),
target AS (
  SELECT t.id FROM django_celery_beat_periodictask t
  WHERE t.id = ANY($1::int[]) AND EXISTS (SELECT 1 FROM lease)
  FOR NO KEY UPDATE OF t SKIP LOCKED
),
written AS (
  UPDATE django_celery_beat_periodictask AS t
  SET last_run_at = ${epochMsToTimestamptz('r.last_run_ms')},
      total_run_count = t.total_run_count + r.runs,
      enabled = t.enabled AND NOT r.disable
  FROM unnest($1::int[], $2::float8[], $3::int[], $4::bool[]) AS r(id, last_run_ms, runs, disable), target
  WHERE t.id = r.id AND target.id = r.id
  RETURNING t.id
)
SELECT EXISTS (SELECT 1 FROM lease) AS held,
       coalesce((SELECT array_agg(id) FROM written), '{}') AS written,
       -- Looked for only when some row was not taken (a lock, or a task deleted meanwhile):
       -- CASE runs its subquery only then, sparing a second index scan of every id.
       CASE WHEN (SELECT count(*) FROM target) = cardinality($1::int[]) THEN '{}'::int[]
       ELSE coalesce((SELECT array_agg(t.id) FROM django_celery_beat_periodictask t
                      WHERE t.id = ANY($1::int[]) AND EXISTS (SELECT 1 FROM lease)
                        AND t.id NOT IN (SELECT id FROM target)), '{}') END AS locked`;

/**
 * Disables tasks (expired ones), under the same fencing as RECORD_RUNS; locked rows are
 * skipped (they are disabled when their change is read again).
 * $1 int[] task ids; $2 text lease name; $3 bigint token. Returns the ids disabled.
 */
export const DISABLE_TASKS = `
WITH lease AS (${fencedLease('$2', '$3')}),
target AS (
  SELECT t.id FROM django_celery_beat_periodictask t
  WHERE t.id = ANY($1::int[]) AND t.enabled AND EXISTS (SELECT 1 FROM lease)
  FOR NO KEY UPDATE OF t SKIP LOCKED
)
UPDATE django_celery_beat_periodictask AS t
SET enabled = false
FROM target
WHERE t.id = target.id
RETURNING t.id`;

/**
 * Who holds the row locks of these tasks, where the database can tell: a row lock lives
 * in the row's xmax, and the locking transaction holds a lock on its own id in pg_locks.
 * $1 int[] task ids. Returns id, name, and the holder's pid, application_name, client
 * address, state, transaction start and the start of its current statement (null when
 * the row is not locked by a single live transaction, e.g. shared by several).
 */
export const ROW_LOCK_HOLDERS = `
SELECT t.id, t.name, a.pid, a.application_name, host(a.client_addr) AS client_addr, a.state,
       a.xact_start, left(a.query, 200) AS query
FROM django_celery_beat_periodictask t
LEFT JOIN pg_locks l ON l.locktype = 'transactionid' AND l.granted AND l.transactionid = t.xmax
LEFT JOIN pg_stat_activity a ON a.pid = l.pid AND a.pid <> pg_backend_pid()
WHERE t.id = ANY($1::int[])`;

/**
 * Takes or renews the lease. A holder renews its own lease (same token); anyone takes
 * a lapsed lease with the next token. Time is the database's, so clock differences
 * between hosts do not matter. No row returned: someone else holds it. clock_ms is the
 * database's clock (epoch ms), from which the beat corrects its own (beat/database-clock.ts).
 * $1 text lease name; $2 text holder; $3 float8 time to live in seconds.
 */
export const ACQUIRE_LEASE = `
INSERT INTO dbbeat_lease AS l (name, holder, token, expires_at)
VALUES ($1, $2, 1, now() + make_interval(secs => $3))
ON CONFLICT (name) DO UPDATE
SET holder = excluded.holder,
    token = CASE WHEN l.holder = excluded.holder AND l.expires_at > now() THEN l.token ELSE l.token + 1 END,
    expires_at = excluded.expires_at
WHERE l.holder = excluded.holder OR l.expires_at <= now()
RETURNING token::text AS token, extract(epoch FROM (expires_at - now()))::float8 AS seconds_left,
          (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS clock_ms`;

/** Gives the lease up at once, so a standby takes over without waiting. $1 name; $2 holder; $3 token. */
export const RELEASE_LEASE = `
UPDATE dbbeat_lease SET expires_at = now()
WHERE name = $1 AND holder = $2 AND token = $3`;

/**
 * A beat's heartbeat: upserts its row (started_at kept) and prunes rows unseen for an hour
 * (beats that died long ago). $1 instance; $2 lease name; $3 hostname; $4 int pid;
 * $5 version; $6 role; $7 float8 lease seconds.
 */
export const HEARTBEAT = `
WITH pruned AS (DELETE FROM dbbeat_beat WHERE seen_at < now() - interval '1 hour' AND instance <> $1)
INSERT INTO dbbeat_beat AS b (instance, lease_name, hostname, pid, version, role, lease_seconds, started_at, seen_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, now(), now())
ON CONFLICT (instance) DO UPDATE
SET lease_name = excluded.lease_name, role = excluded.role, lease_seconds = excluded.lease_seconds, seen_at = excluded.seen_at`;

/** Deletes a stopping beat's row. $1 instance. */
export const REMOVE_BEAT = `DELETE FROM dbbeat_beat WHERE instance = $1`;

/** Drops change-log rows nobody needs any more. $1 float8: keep this many seconds. */
export const PRUNE_CHANGES = `DELETE FROM dbbeat_change WHERE changed_at < now() - make_interval(secs => $1)`;

/** This database's random id, mixed into task ids (see beat/task-id.ts). No parameters. */
export const INSTALLATION_ID = `SELECT id::text AS id FROM dbbeat_installation`;
