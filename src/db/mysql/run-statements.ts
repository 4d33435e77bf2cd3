// Run history statements on MySQL / MariaDB: dbbeat_run (migrations/mysql/0007). Every
// time here is UTC DATETIME(6) text, whatever zone Django's naive times are in. The same
// names as ../postgres/run-statements.ts.

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
