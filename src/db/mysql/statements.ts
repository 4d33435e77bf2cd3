// Every statement the beat runs on MySQL / MariaDB, one named constant each with its
// parameters, under the same names as postgres/statements.ts. Placeholders are `?`; an
// array parameter in `IN (?)` is expanded by the driver (never pass an empty one: [null]
// matches nothing). DATETIMEs of Django's tables are naive (see naive-time.ts); those of
// dbbeat_* tables are UTC, by the server's UTC_TIMESTAMP(6).

/** Columns of a task row joined with its schedules, as TaskRow reads them. */
const TASK_COLUMNS = `
  t.id, t.name, t.task, t.args, t.kwargs, t.headers, t.queue, t.exchange, t.routing_key,
  t.priority, t.expires, t.expire_seconds, t.one_off, t.start_time, t.enabled,
  t.last_run_at, t.total_run_count, t.date_changed,
  t.crontab_id, c.minute AS c_minute, c.hour AS c_hour, c.day_of_week AS c_day_of_week,
  c.day_of_month AS c_day_of_month, c.month_of_year AS c_month_of_year, c.timezone AS c_timezone,
  t.interval_id, i.every AS i_every, i.period AS i_period,
  t.solar_id, s.event AS s_event, s.latitude AS s_latitude, s.longitude AS s_longitude,
  t.clocked_id, k.clocked_time AS k_clocked_time`;

const TASK_JOINS = `
  FROM django_celery_beat_periodictask t
  LEFT JOIN django_celery_beat_crontabschedule c ON c.id = t.crontab_id
  LEFT JOIN django_celery_beat_intervalschedule i ON i.id = t.interval_id
  LEFT JOIN django_celery_beat_solarschedule s ON s.id = t.solar_id
  LEFT JOIN django_celery_beat_clockedschedule k ON k.id = t.clocked_id`;

/** One page of enabled tasks, in id order. ? int: the last id of the previous page (0 first); ? int: page size. */
export const LOAD_ENABLED_PAGE = `
SELECT ${TASK_COLUMNS} ${TASK_JOINS}
WHERE t.enabled AND t.id > ?
ORDER BY t.id
LIMIT ?`;

/** The tasks with these ids, enabled or not. ? int[]: task ids (not empty). */
export const LOAD_BY_IDS = `
SELECT ${TASK_COLUMNS} ${TASK_JOINS}
WHERE t.id IN (?)`;

/** Ids of the tasks that use any of the given schedules. ? crontab ids; ? interval ids; ? solar ids; ? clocked ids (each [null] when none). */
export const TASKS_OF_SCHEDULES = `
SELECT id FROM django_celery_beat_periodictask
WHERE crontab_id IN (?) OR interval_id IN (?) OR solar_id IN (?) OR clocked_id IN (?)`;

/**
 * Where a change feed starts: the highest change id, and each gap among the recent ids
 * (taken by transactions not committed yet, or rolled back) as the ids either side of it,
 * one row per gap (the store lists the ids in between). Only the last 100,000 ids are
 * searched, so a start right after a bulk write stays cheap.
 * ? int: how far back "recent" goes, in microseconds.
 */
export const CHANGE_FEED_START = `
SELECT top.top, r.id AS gap_after, r.next_id AS gap_before
FROM (SELECT COALESCE(MAX(id), 0) AS top FROM dbbeat_change) AS top
LEFT JOIN (
  SELECT c.id, LEAD(c.id) OVER (ORDER BY c.id) AS next_id
  FROM dbbeat_change c
  WHERE c.id > (SELECT COALESCE(MAX(id), 0) - 100000 FROM dbbeat_change)
    AND c.changed_at >= UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND
) AS r ON r.next_id > r.id + 1`;

/** Changes above the highest id read, and those of the holes below it, in id order. ? bigint: highest id read; ? bigint[]: the holes ([null] when none). */
export const READ_CHANGES_AFTER = `
SELECT id, table_name, row_id
FROM dbbeat_change
WHERE id > ? OR id IN (?)
ORDER BY id`;

/**
 * What the change watcher polls: the count and the highest id of the changes above a
 * floor. Both stay the same while nothing changes; an index range on the primary key.
 * ? bigint: the floor (a little below the last highest id, so late commits in holes show).
 */
export const CHANGE_LOG_MARK = `SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS top FROM dbbeat_change WHERE id > ?`;

/** The database's clock (UTC), for the clock-skew check. No parameters. */
export const DATABASE_CLOCK = `SELECT UTC_TIMESTAMP(6) AS clock`;

/**
 * The fence of RECORD_RUNS and DISABLE_TASKS, read first in their transaction: a shared
 * lock on the lease row, so that no one can take the lease over until the write commits.
 * ? lease name; ? token. A row: the lease is still ours.
 */
export const CHECK_FENCE = `
SELECT 1 AS held FROM dbbeat_lease
WHERE name = ? AND token = ? AND expires_at > UTC_TIMESTAMP(6)
LOCK IN SHARE MODE`;

/**
 * Records runs the broker accepted (after CHECK_FENCE in the same transaction).
 * ? JSON text: an array of [id, last_run_at (naive DATETIME text), runs to add (0 or 1),
 * disable (0 or 1)]. Its found-rows count tells how many of the tasks still exist.
 */
export const RECORD_RUNS = `
UPDATE django_celery_beat_periodictask AS t
JOIN JSON_TABLE(?, '$[*]' COLUMNS (
  id INT PATH '$[0]',
  last_run_at DATETIME(6) PATH '$[1]',
  runs INT PATH '$[2]',
  disable_it TINYINT PATH '$[3]'
)) AS r ON t.id = r.id
SET t.last_run_at = r.last_run_at,
    t.total_run_count = t.total_run_count + r.runs,
    t.enabled = t.enabled AND NOT r.disable_it`;

/** Which of these tasks exist (when RECORD_RUNS found fewer rows than it was given). ? int[]: task ids. */
export const EXISTING_TASKS = `SELECT id FROM django_celery_beat_periodictask WHERE id IN (?)`;

/** The enabled tasks among these, locked for DISABLE_TASKS (after CHECK_FENCE). ? int[]: task ids. */
export const ENABLED_TASKS_FOR_UPDATE = `
SELECT id FROM django_celery_beat_periodictask WHERE id IN (?) AND enabled FOR UPDATE`;

/** Disables tasks (expired ones). ? int[]: task ids, from ENABLED_TASKS_FOR_UPDATE. */
export const DISABLE_TASKS = `UPDATE django_celery_beat_periodictask SET enabled = 0 WHERE id IN (?)`;

/**
 * Renews the lease for its holder (same token) or takes a lapsed one (next token), by the
 * database's clock. Found rows: 1 when this holder has it now, 0 when someone else holds
 * it or the row does not exist yet (then INSERT_LEASE). MySQL assigns left to right, so
 * `token` is computed from the old holder and expiry before they change.
 * ? holder; ? holder; ? time to live in µs; ? name; ? holder.
 */
export const ACQUIRE_LEASE = `
UPDATE dbbeat_lease
SET token = IF(holder = ? AND expires_at > UTC_TIMESTAMP(6), token, token + 1),
    holder = ?,
    expires_at = UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND
WHERE name = ? AND (holder = ? OR expires_at <= UTC_TIMESTAMP(6))`;

/** Creates the lease row, held by this holder with token 1. ? name; ? holder; ? time to live in µs. Found rows 0: it existed. */
export const INSERT_LEASE = `
INSERT IGNORE INTO dbbeat_lease (name, holder, token, expires_at)
VALUES (?, ?, 1, UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND)`;

/** The lease as it is now, in the transaction of ACQUIRE_LEASE. ? name. */
export const READ_LEASE = `
SELECT CAST(token AS CHAR) AS token,
       TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), expires_at) / 1000000 AS seconds_left
FROM dbbeat_lease WHERE name = ?`;

/** Gives the lease up at once, so a standby takes over without waiting. ? name; ? holder; ? token. */
export const RELEASE_LEASE = `
UPDATE dbbeat_lease SET expires_at = UTC_TIMESTAMP(6)
WHERE name = ? AND holder = ? AND token = ?`;

/** Drops change-log rows nobody needs any more. ? int: keep this many microseconds. */
export const PRUNE_CHANGES = `DELETE FROM dbbeat_change WHERE changed_at < UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND`;

/** This database's random id, mixed into task ids. No parameters. */
export const INSTALLATION_ID = `SELECT id FROM dbbeat_installation`;

/**
 * A beat's heartbeat: upserts its row (started_at kept). ? instance; ? lease name;
 * ? hostname; ? pid; ? version; ? role; ? lease seconds.
 */
export const HEARTBEAT = `
INSERT INTO dbbeat_beat (instance, lease_name, hostname, pid, version, role, lease_seconds, started_at, seen_at)
VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))
ON DUPLICATE KEY UPDATE lease_name = VALUES(lease_name), role = VALUES(role),
  lease_seconds = VALUES(lease_seconds), seen_at = VALUES(seen_at)`;

/** Deletes rows of beats unseen for an hour (beats that died long ago). ? this beat's instance. */
export const PRUNE_BEATS = `DELETE FROM dbbeat_beat WHERE seen_at < UTC_TIMESTAMP(6) - INTERVAL 1 HOUR AND instance <> ?`;

/** Deletes a stopping beat's row. ? instance. */
export const REMOVE_BEAT = `DELETE FROM dbbeat_beat WHERE instance = ?`;
