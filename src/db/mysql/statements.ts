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

/** The task's own columns (no joins), as OwnTaskRow (../schedule-join.ts) reads them; task-reads.ts reads them by position. */
const OWN_COLUMNS = `
  t.id, t.name, t.task, t.args, t.kwargs, t.headers, t.queue, t.exchange, t.routing_key,
  t.priority, t.expires, t.expire_seconds, t.one_off, t.start_time, t.enabled,
  t.last_run_at, t.total_run_count, t.date_changed,
  t.crontab_id, t.interval_id, t.solar_id, t.clocked_id`;

/**
 * One page of enabled tasks, their own columns only, in id order: a scan of the primary
 * key, no join; the schedules the page uses are read by the *_BY_IDS statements below.
 * ? int: the last id of the previous page (0 first); ? int: page size.
 */
export const LOAD_ENABLED_TASKS_PAGE = `
SELECT ${OWN_COLUMNS}
FROM django_celery_beat_periodictask t
WHERE t.enabled AND t.id > ?
ORDER BY t.id
LIMIT ?`;

/** Crontab schedules by id. ? int[]: ids (not empty). */
export const CRONTABS_BY_IDS = `
SELECT id, minute, hour, day_of_week, day_of_month, month_of_year, timezone
FROM django_celery_beat_crontabschedule WHERE id IN (?)`;

/** Interval schedules by id. ? int[]: ids (not empty). */
export const INTERVALS_BY_IDS = `SELECT id, every, period FROM django_celery_beat_intervalschedule WHERE id IN (?)`;

/** Solar schedules by id. ? int[]: ids (not empty). */
export const SOLARS_BY_IDS = `SELECT id, event, latitude, longitude FROM django_celery_beat_solarschedule WHERE id IN (?)`;

/** Clocked schedules by id (clocked_time naive, as Django wrote it). ? int[]: ids (not empty). */
export const CLOCKEDS_BY_IDS = `SELECT id, clocked_time FROM django_celery_beat_clockedschedule WHERE id IN (?)`;

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

/**
 * Changes above the highest id read, and those of the holes below it, in id order, with
 * each one's age (ms since its write; changed_at is UTC). ? bigint: highest id read;
 * ? bigint[]: the holes ([null] when none).
 */
export const READ_CHANGES_AFTER = `
SELECT id, table_name, row_id, TIMESTAMPDIFF(MICROSECOND, changed_at, UTC_TIMESTAMP(6)) / 1000 AS age_ms
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
 * Records runs the broker accepted (after CHECK_FENCE and LOCK_TASKS in the same
 * transaction, for the rows LOCK_TASKS returned only).
 * ? JSON text: an array of [id, last_run_at (naive DATETIME text), runs to add (0 or 1),
 * disable (0 or 1)]; ? int[]: the same ids. The id list keeps the scan on those rows'
 * primary keys (FORCE INDEX: on a small table the optimizer would rather scan it, and a
 * scan waits on every row another transaction has locked, written or not).
 */
export const RECORD_RUNS = `
UPDATE django_celery_beat_periodictask AS t FORCE INDEX (PRIMARY)
JOIN JSON_TABLE(?, '$[*]' COLUMNS (
  id INT PATH '$[0]',
  last_run_at DATETIME(6) PATH '$[1]',
  runs INT PATH '$[2]',
  disable_it TINYINT PATH '$[3]'
)) AS r ON t.id = r.id
SET t.last_run_at = r.last_run_at,
    t.total_run_count = t.total_run_count + r.runs,
    t.enabled = t.enabled AND NOT r.disable_it
WHERE t.id IN (?)`;

/**
 * The task rows RECORD_RUNS may write, locked (after CHECK_FENCE). Rows another
 * transaction has locked are skipped, not waited for (SKIP LOCKED, MySQL 8 / MariaDB
 * 10.6+): an open transaction on one task must never hold up the others; the caller keeps
 * those records and tries again later. ? int[]: task ids.
 */
export const LOCK_TASKS = `
SELECT id FROM django_celery_beat_periodictask WHERE id IN (?) FOR UPDATE SKIP LOCKED`;

/** Which of these tasks exist (a plain read: it sees locked rows too). ? int[]: task ids. */
export const EXISTING_TASKS = `SELECT id, name FROM django_celery_beat_periodictask WHERE id IN (?)`;

/** The enabled tasks among these, locked for DISABLE_TASKS (after CHECK_FENCE); locked rows are skipped. ? int[]: task ids. */
export const ENABLED_TASKS_FOR_UPDATE = `
SELECT id FROM django_celery_beat_periodictask WHERE id IN (?) AND enabled FOR UPDATE SKIP LOCKED`;

/**
 * MariaDB: makes this connection wait (at most 1 s) for a task row's lock, so that the
 * server lists who blocks it in INNODB_LOCK_WAITS (MariaDB lists locks only while someone
 * waits on them). Run in a transaction of its own; ROW_LOCK_WAIT_MARIADB reads the wait
 * and stops this query with KILL QUERY. ? int: task id.
 */
export const PROBE_ROW_LOCK_MARIADB = `
SELECT id FROM django_celery_beat_periodictask WHERE id = ? FOR UPDATE WAIT 1`;

/** This connection's id (for KILL QUERY, and to find its lock wait). No parameters. */
export const CONNECTION_ID = `SELECT CONNECTION_ID() AS id`;

/**
 * MariaDB: who blocks connection ?'s lock wait: the blocking transaction's connection,
 * its client, command, start (epoch seconds) and current statement (null when idle: MariaDB
 * keeps no last statement without performance_schema). ? int: the waiting connection id.
 */
export const ROW_LOCK_WAIT_MARIADB = `
SELECT b.trx_mysql_thread_id AS pid, p.USER AS user, p.HOST AS host, p.COMMAND AS command,
       UNIX_TIMESTAMP(b.trx_started) AS started, LEFT(COALESCE(b.trx_query, p.INFO), 200) AS query
FROM information_schema.INNODB_LOCK_WAITS w
JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id
JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id
LEFT JOIN information_schema.PROCESSLIST p ON p.ID = b.trx_mysql_thread_id
WHERE r.trx_mysql_thread_id = ?
LIMIT 1`;

/**
 * MySQL 8: who holds the exclusive record locks of these task rows (performance_schema
 * lists granted locks too, so no wait is needed). Not run on MariaDB (performance_schema
 * is off by default there and has no data_locks). ? text[]: task ids as text (LOCK_DATA).
 */
export const ROW_LOCK_HOLDERS_MYSQL = `
SELECT CAST(l.LOCK_DATA AS UNSIGNED) AS id, t.PROCESSLIST_ID AS pid, t.PROCESSLIST_USER AS user,
       t.PROCESSLIST_HOST AS host, t.PROCESSLIST_COMMAND AS command,
       UNIX_TIMESTAMP(x.trx_started) AS started, LEFT(COALESCE(x.trx_query, t.PROCESSLIST_INFO), 200) AS query
FROM performance_schema.data_locks l
JOIN performance_schema.threads t ON t.THREAD_ID = l.THREAD_ID
LEFT JOIN information_schema.INNODB_TRX x ON x.trx_id = l.ENGINE_TRANSACTION_ID
WHERE l.OBJECT_SCHEMA = DATABASE() AND l.OBJECT_NAME = 'django_celery_beat_periodictask'
  AND l.INDEX_NAME = 'PRIMARY' AND l.LOCK_TYPE = 'RECORD' AND l.LOCK_MODE LIKE 'X%'
  AND l.LOCK_STATUS = 'GRANTED' AND l.LOCK_DATA IN (?) AND t.PROCESSLIST_ID <> CONNECTION_ID()`;

/** The server's version text ("10.11.19-MariaDB-…" or "8.0.36"). No parameters. */
export const SERVER_VERSION = `SELECT VERSION() AS version`;

/** Disables tasks (expired ones). ? int[]: task ids, from ENABLED_TASKS_FOR_UPDATE (by primary key, as RECORD_RUNS, so no other row is waited on). */
export const DISABLE_TASKS = `UPDATE django_celery_beat_periodictask FORCE INDEX (PRIMARY) SET enabled = 0 WHERE id IN (?)`;

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
