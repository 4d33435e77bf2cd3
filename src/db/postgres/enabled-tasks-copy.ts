// The load's page read on a PostgreSQL server, as a binary COPY (see copy-out.ts): the
// rows LOAD_ENABLED_TASKS_RANGE selects, with the same values, decoded from their bytes.
// PGlite, which has no COPY to the client, runs LOAD_ENABLED_TASKS_RANGE itself.
import type { OwnTaskRow } from '../store.js';
import type { BinaryFields } from './copy-out.js';
import { enabledTasksInRange } from './statements.js';

/**
 * LOAD_ENABLED_TASKS_RANGE (statements.ts) with its three numbers written in: enabled tasks
 * with `after` < id ≤ `upTo`, at most `limit`, in id order, their own columns in the order
 * decodeOwnTaskRow reads them. Text columns are cast to text (a no-op for varchar and
 * text) so that each field's binary form is known; times come as stored (timestamptz).
 */
export function enabledTasksSelect(after: number, upTo: number, limit: number): string {
  for (const value of [after, upTo, limit]) {
    if (!Number.isSafeInteger(value)) throw new Error(`enabledTasksSelect: ${value} is not an integer`);
  }
  const columns = `t.id, t.name::text, t.task::text, t.args::text, t.kwargs::text, t.headers::text, t.queue::text,
  t.exchange::text, t.routing_key::text, t.priority, t.expires, t.expire_seconds, t.one_off, t.start_time,
  t.enabled, t.last_run_at, t.total_run_count, t.date_changed, t.crontab_id, t.interval_id, t.solar_id,
  t.clocked_id`;
  return enabledTasksInRange(columns, String(after), String(upTo), String(limit));
}

/** enabledTasksSelect as a binary COPY (COPY takes no parameters: the numbers are checked integers). */
export function enabledTasksCopy(after: number, upTo: number, limit: number): string {
  return `COPY (${enabledTasksSelect(after, upTo, limit)}) TO STDOUT (FORMAT binary)`;
}

/** One row of enabledTasksCopy, as the query would give it (times as epoch ms). */
export function decodeOwnTaskRow(f: BinaryFields): OwnTaskRow {
  // Fields in SELECT order (object literals evaluate in order).
  return {
    id: f.integer()!,
    name: f.text()!,
    task: f.text()!,
    args: f.text()!,
    kwargs: f.text()!,
    headers: f.text()!,
    queue: f.text(),
    exchange: f.text(),
    routing_key: f.text(),
    priority: f.integer(),
    expires: f.epochMs(),
    expire_seconds: f.integer(),
    one_off: f.boolean()!,
    start_time: f.epochMs(),
    enabled: f.boolean()!,
    last_run_at: f.epochMs(),
    total_run_count: f.integer()!,
    date_changed: f.epochMs()!,
    crontab_id: f.integer(),
    interval_id: f.integer(),
    solar_id: f.integer(),
    clocked_id: f.integer(),
  };
}
