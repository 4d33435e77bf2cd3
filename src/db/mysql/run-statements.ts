// Run history statements on MySQL / MariaDB: dbbeat_run (migrations/mysql/0007). Every
// time here is UTC DATETIME(6) text, whatever zone Django's naive times are in. The same
// names as ../postgres/run-statements.ts.
import { lateMsColumn, type RunEntry } from '../store.js';

/**
 * Adds run-history rows; a task id already there (a re-send after a crash) is left alone.
 * ? JSON text: an array of [periodic_task_id, periodic_task_name, task, task_id,
 * scheduled_at, sent_at (UTC DATETIME text), late_ms, queue, manual (0/1), state, broker].
 */
export const INSERT_RUNS = `
INSERT INTO dbbeat_run (periodic_task_id, periodic_task_name, task, task_id, scheduled_at, sent_at,
                        late_ms, broker, queue, manual, state, updated_at)
SELECT h.periodic_task_id, h.periodic_task_name, h.task, h.task_id, h.scheduled_at, h.sent_at,
       h.late_ms, h.broker, h.queue, h.manual, h.state, UTC_TIMESTAMP(6)
FROM JSON_TABLE(?, '$[*]' COLUMNS (
  periodic_task_id INT PATH '$[0]',
  periodic_task_name VARCHAR(200) PATH '$[1]',
  task VARCHAR(200) PATH '$[2]',
  task_id VARCHAR(191) PATH '$[3]',
  scheduled_at DATETIME(6) PATH '$[4]',
  sent_at DATETIME(6) PATH '$[5]',
  late_ms INT PATH '$[6]',
  queue VARCHAR(200) PATH '$[7]',
  manual TINYINT PATH '$[8]',
  state VARCHAR(16) PATH '$[9]',
  broker VARCHAR(1024) PATH '$[10]'
)) AS h
ON DUPLICATE KEY UPDATE id = dbbeat_run.id`;

/** INSERT_RUNS's parameter (JSON text) for these rows. */
export function insertRunsParam(entries: readonly RunEntry[]): string {
  return JSON.stringify(
    entries.map((h) => [
      h.periodicTaskId,
      h.periodicTaskName,
      h.task,
      h.taskId,
      h.scheduledAt === null ? null : utcDatetime(h.scheduledAt),
      utcDatetime(h.sentAt),
      lateMsColumn(h.lateMs),
      h.queue,
      h.manual ? 1 : 0,
      h.state,
      h.broker,
    ]),
  );
}

/**
 * The id at and below which rows are beyond the newest ? rows (the row cap); no row when
 * the table holds fewer. ? int rows kept.
 */
export const RUN_CAP_ID = `SELECT id FROM dbbeat_run ORDER BY id DESC LIMIT 1 OFFSET ?`;

/**
 * Deletes up to ? history rows sent more than ? seconds ago or with id <= ?, oldest first.
 * ? int seconds kept; ? id cap (0: none); ? rows per call. Affected rows: how many went.
 */
export const PRUNE_RUNS = `
DELETE FROM dbbeat_run WHERE sent_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND OR id <= ? ORDER BY id LIMIT ?`;

/** Epoch ms as the UTC DATETIME(6) text of dbbeat's own tables. */
export function utcDatetime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** Run states after which nothing moves a run (FINISHED_STATES, and SKIPPED which has no task id). */
const FINISHED = `'SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED', 'SKIPPED'`;

/**
 * Whether update u moves run r's state: outcomeMoves of src/db/outcome-fold.ts in SQL (the
 * same rules, the same order). It reads r.state, so APPLY_OUTCOMES assigns state last.
 */
const MOVES = `(CASE
  WHEN r.state IN (${FINISHED}) THEN FALSE
  WHEN u.state = 'LOST' THEN r.state <> 'LOST'
  WHEN r.state = 'LOST' THEN TRUE
  WHEN u.state IN ('SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED', 'RETRY') OR u.after_retry = 1 THEN TRUE
  WHEN r.state = 'RETRY' THEN u.state IN ('RECEIVED', 'STARTED')
  ELSE (CASE u.state WHEN 'SENT' THEN 0 WHEN 'RECEIVED' THEN 1 WHEN 'STARTED' THEN 2 ELSE -1 END)
    >= (CASE r.state WHEN 'RECEIVED' THEN 1 WHEN 'STARTED' THEN 2 ELSE 0 END)
END)`;

/** u replaces the outcome columns (replacesOutcome): a finished state or RETRY. */
const REPLACES = `u.state IN ('SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED', 'RETRY')`;

/** A trace column (received_at, started_at, worker): the newer value when moving, else only filled. */
const trace = (column: string) =>
  `r.${column} = CASE WHEN ${MOVES} THEN COALESCE(u.${column}, r.${column}) ELSE COALESCE(r.${column}, u.${column}) END`;
/** An outcome column: replaced by a finished state or RETRY, kept where a moving open state has none. */
const outcome = (column: string) =>
  `r.${column} = CASE WHEN NOT ${MOVES} THEN r.${column} WHEN ${REPLACES} THEN u.${column} ELSE COALESCE(u.${column}, r.${column}) END`;

/**
 * Applies a batch of outcomes (folded: one per task id, see foldOutcomes) to the runs with
 * those task ids, by the rules of outcomeMoves; task ids not in dbbeat_run match nothing.
 * Affected rows: the rows updated.
 * ? JSON text: an array of [task_id, state, after_retry (0/1), received_at, started_at,
 * finished_at (UTC DATETIME text or null), runtime (s), worker, result, exception_type,
 * exception_message, traceback]; ? the same task ids as a list (for the index).
 * Every SET expression reads r.state through MOVES, and MySQL may assign a multiple-table
 * UPDATE's columns in list order on the row itself: `state` must stay the last assignment.
 */
export const APPLY_OUTCOMES = `
UPDATE dbbeat_run AS r FORCE INDEX (dbbeat_run_task_id_idx)
JOIN JSON_TABLE(?, '$[*]' COLUMNS (
  task_id VARCHAR(191) PATH '$[0]',
  state VARCHAR(16) PATH '$[1]',
  after_retry TINYINT PATH '$[2]',
  received_at DATETIME(6) PATH '$[3]',
  started_at DATETIME(6) PATH '$[4]',
  finished_at DATETIME(6) PATH '$[5]',
  runtime DOUBLE PATH '$[6]',
  worker VARCHAR(255) PATH '$[7]',
  result TEXT PATH '$[8]',
  exception_type VARCHAR(255) PATH '$[9]',
  exception_message TEXT PATH '$[10]',
  traceback MEDIUMTEXT PATH '$[11]'
)) AS u ON r.task_id = u.task_id
SET ${trace('received_at')},
    ${trace('started_at')},
    ${trace('worker')},
    ${outcome('finished_at')},
    ${outcome('runtime')},
    ${outcome('result')},
    ${outcome('exception_type')},
    ${outcome('exception_message')},
    ${outcome('traceback')},
    r.updated_at = UTC_TIMESTAMP(6),
    r.state = CASE WHEN ${MOVES} THEN u.state ELSE r.state END
WHERE r.task_id IN (?)
  AND (${MOVES}
       OR (r.received_at IS NULL AND u.received_at IS NOT NULL)
       OR (r.started_at IS NULL AND u.started_at IS NOT NULL)
       OR (r.worker IS NULL AND u.worker IS NOT NULL))`;

/**
 * The runs an outcome batch may change, locked (in APPLY_OUTCOMES' transaction) and read
 * before and after it: MySQL has no UPDATE … RETURNING. ? the batch's task ids as a list.
 */
export const OUTCOME_ROWS_FOR_UPDATE = `
SELECT id, task_id, state, runtime, updated_at
FROM dbbeat_run FORCE INDEX (dbbeat_run_task_id_idx)
WHERE task_id IN (?)
FOR UPDATE`;

/**
 * Up to ? runs still waiting for an outcome (SENT, RECEIVED, STARTED, RETRY) sent before ?
 * with an id above ?, by id (oldest first). ? UTC DATETIME text; ? int id (0: from the
 * start); ? int rows.
 */
export const OPEN_RUNS = `
SELECT id, task_id, sent_at, state
FROM dbbeat_run
WHERE state IN ('SENT', 'RECEIVED', 'STARTED', 'RETRY') AND sent_at < ? AND task_id IS NOT NULL AND id > ?
ORDER BY id
LIMIT ?`;

// ---- Reading (RunHistory): dbbeat runs, /api/runs, failing tasks ----

/** Every column of a run as RunRecordView reads it (times as UTC DATETIME text). */
const RUN_COLUMNS = `
  id, periodic_task_id, periodic_task_name, task, task_id, scheduled_at, sent_at, late_ms, broker,
  queue, manual, state, received_at, started_at, finished_at, runtime, worker, result,
  exception_type, exception_message, traceback`;

/**
 * Runs newest first by id (the primary key, walked backwards; ids follow send order), any task.
 * ?, ? text periodic_task_name or null (twice); ?, ? state or null; ?, ? since (UTC DATETIME
 * text) or null; ?, ? before (id) or null; ? int limit.
 */
export const LIST_RUNS = `
SELECT ${RUN_COLUMNS}
FROM dbbeat_run
WHERE (? IS NULL OR periodic_task_name = ?)
  AND (? IS NULL OR state = ?)
  AND (? IS NULL OR sent_at >= ?)
  AND (? IS NULL OR id < ?)
ORDER BY id DESC
LIMIT ?`;

/**
 * One periodic task's runs, newest first by send time then id (the index
 * dbbeat_run_task_sent_idx). `before` is a run id: runs sent before it (ties: lower id).
 * ? int periodic_task_id; ?, ? state or null; ?, ? since (UTC DATETIME text) or null;
 * ?, ? before (id) or null; ? int limit.
 */
export const LIST_TASK_RUNS = `
SELECT ${RUN_COLUMNS}
FROM dbbeat_run
WHERE periodic_task_id = ?
  AND (? IS NULL OR state = ?)
  AND (? IS NULL OR sent_at >= ?)
  AND (? IS NULL OR (sent_at, id) < (SELECT b.sent_at, b.id FROM dbbeat_run b WHERE b.id = ?))
ORDER BY sent_at DESC, id DESC
LIMIT ?`;

/**
 * The enabled tasks whose last decided run (SUCCESS, FAILURE, REVOKED, REJECTED, LOST) is
 * FAILURE or LOST: the candidates of failingTasksStatement. One index probe per task (the
 * (periodic_task_id, sent_at) index, newest first), since MariaDB has no LATERAL and a window
 * over every run takes tens of seconds at a million rows.
 * `ids` true: ? int[] periodic task ids; false: no parameter. Row: periodic_task_id.
 */
export function failingCandidatesStatement(ids: boolean): string {
  return `
SELECT x.periodic_task_id
FROM (
  SELECT t.id AS periodic_task_id,
         (SELECT r.id FROM dbbeat_run r
          WHERE r.periodic_task_id = t.id AND r.state IN ('SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED', 'LOST')
          ORDER BY r.sent_at DESC, r.id DESC LIMIT 1) AS last_id
  FROM django_celery_beat_periodictask t
  WHERE t.enabled = 1${ids ? ' AND t.id IN (?)' : ''}
) x
JOIN dbbeat_run l ON l.id = x.last_id AND l.state IN ('FAILURE', 'LOST')`;
}

/**
 * Enabled tasks whose last K decided runs (SUCCESS, FAILURE, REVOKED, REJECTED, LOST) are
 * all FAILURE, or whose last decided run is LOST. A window over the decided runs (of the
 * listed tasks, by the index, when `ids` is true: the candidates of
 * failingCandidatesStatement).
 * `ids` true: ? int[] periodic task ids, then ? K and ? K; false: ? K and ? K.
 * Row: the task, the reason, how many of the K failed, and its last decided run.
 */
export function failingTasksStatement(ids: boolean): string {
  return `
WITH last AS (
  SELECT r.periodic_task_id, r.id, r.task_id, r.state, r.sent_at, r.exception_type, r.exception_message,
         ROW_NUMBER() OVER (PARTITION BY r.periodic_task_id ORDER BY r.sent_at DESC, r.id DESC) AS n
  FROM dbbeat_run r
  WHERE r.state IN ('SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED', 'LOST')${ids ? ' AND r.periodic_task_id IN (?)' : ''}
),
f AS (
  SELECT periodic_task_id,
         SUM(state = 'FAILURE') AS failures,
         MAX(n = 1 AND state = 'LOST') AS lost
  FROM last
  WHERE n <= ?
  GROUP BY periodic_task_id
  HAVING MAX(n = 1 AND state = 'LOST') = 1 OR (COUNT(*) = ? AND MIN(state = 'FAILURE') = 1)
)
SELECT f.periodic_task_id, t.name AS periodic_task_name, CASE WHEN f.lost = 1 THEN 'lost' ELSE 'failures' END AS reason,
       f.failures, l.id, l.task_id, l.state, l.sent_at, l.exception_type, l.exception_message
FROM f
JOIN last l ON l.periodic_task_id = f.periodic_task_id AND l.n = 1
JOIN django_celery_beat_periodictask t ON t.id = f.periodic_task_id AND t.enabled = 1
ORDER BY t.name`;
}

/** The id of the periodic task of this name. ? text name. */
export const TASK_ID_BY_NAME = `SELECT id FROM django_celery_beat_periodictask WHERE name = ?`;
