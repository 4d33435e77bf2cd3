// Shared pieces of the fault tests: a migrated throwaway database, tasks inserted with
// raw SQL (as another service would), what the broker holds read back as runs, and the
// check that every expected (task, slot) is there exactly once.
import { randomBytes, randomInt } from 'node:crypto';

import amqp from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';

import { migrate } from '../../src/db/migrate.js';
import { openDatabase } from '../../src/db/open.js';
import { createTempDatabase, type TempDatabase } from '../support/postgres.js';

/** A fresh, migrated database and a small pool for the test's own queries. */
export interface FaultDatabase {
  temp: TempDatabase;
  url: string;
  pool: pg.Pool;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

export async function createFaultDatabase(): Promise<FaultDatabase> {
  const temp = await createTempDatabase('dbbeat_fault');
  const db = await openDatabase({ databaseUrl: temp.url });
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  const pool = new pg.Pool({ connectionString: temp.url, max: 3 });
  // A test that cuts connections (pg_terminate_backend) must not crash on an idle one.
  pool.on('error', () => undefined);
  return {
    temp,
    url: temp.url,
    pool,
    async drop() {
      await pool.end().catch(() => undefined);
      await temp.drop();
    },
  };
}

/** A unique name for queues and task names, so parallel runs never share anything. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/**
 * A random first task id. Task ids (and so Celery task ids and the Redis dedupe keys)
 * derive from the row id and the slot; other tests' databases also start at id 1, so a
 * shared Redis would see their runs as re-sends of ours. A random base keeps them apart.
 */
export function randomIdBase(): number {
  return randomInt(100_000_000, 2_000_000_000);
}

/** What a test scheduled, enough to list the slots it expects. */
export type TaskSpec =
  | { id: number; name: string; kind: 'interval'; everyMs: number; dateChanged: number }
  | { id: number; name: string; kind: 'every-minute'; dateChanged: number };

export interface InsertTasksOptions {
  /** Row id of the first task; the others follow. */
  idBase: number;
  count: number;
  /** Task names are `<prefix>_<index>`. */
  namePrefix: string;
  /** The tasks' queue column (null: Celery's default queue). */
  queue: string | null;
  /** Epoch ms, a whole second: the first run of an interval task is one interval later. */
  dateChanged: number;
  /** Interval in whole seconds per task index, or 'every-minute' for crontab `* * * * *` (UTC). */
  schedule: (index: number) => number | 'every-minute';
}

/** Inserts tasks with raw SQL, one schedule row per distinct interval. */
export async function insertTasks(pool: pg.Pool, options: InsertTasksOptions): Promise<TaskSpec[]> {
  const intervalIds = new Map<number, number>();
  let crontabId: number | undefined;
  const specs: TaskSpec[] = [];
  const rows: { id: number; name: string; intervalId: number | null; crontabId: number | null }[] = [];
  for (let index = 0; index < options.count; index += 1) {
    const id = options.idBase + index;
    const name = `${options.namePrefix}_${index}`;
    const schedule = options.schedule(index);
    if (schedule === 'every-minute') {
      if (crontabId === undefined) {
        const { rows: created } = await pool.query<{ id: number }>(
          `INSERT INTO django_celery_beat_crontabschedule (minute, hour, day_of_week, day_of_month, month_of_year, timezone)
           VALUES ('*', '*', '*', '*', '*', 'UTC') RETURNING id`,
        );
        crontabId = created[0]!.id;
      }
      rows.push({ id, name, intervalId: null, crontabId });
      specs.push({ id, name, kind: 'every-minute', dateChanged: options.dateChanged });
    } else {
      let intervalId = intervalIds.get(schedule);
      if (intervalId === undefined) {
        const { rows: created } = await pool.query<{ id: number }>(
          `INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES ($1, 'seconds') RETURNING id`,
          [schedule],
        );
        intervalId = created[0]!.id;
        intervalIds.set(schedule, intervalId);
      }
      rows.push({ id, name, intervalId, crontabId: null });
      specs.push({ id, name, kind: 'interval', everyMs: schedule * 1000, dateChanged: options.dateChanged });
    }
  }
  await pool.query(
    `INSERT INTO django_celery_beat_periodictask
       (id, name, task, interval_id, crontab_id, args, kwargs, queue, headers, one_off, enabled,
        total_run_count, date_changed, description)
     SELECT r.id, r.name, 'dbbeat.fault.noop', r.interval_id, r.crontab_id, '[]', '{}', $5, '{}', false, true,
            0, $6, ''
     FROM unnest($1::int[], $2::text[], $3::int[], $4::int[]) AS r(id, name, interval_id, crontab_id)`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.name),
      rows.map((r) => r.intervalId),
      rows.map((r) => r.crontabId),
      options.queue,
      new Date(options.dateChanged),
    ],
  );
  return specs;
}

/** The slots a task should have run for, after its date_changed and up to `until` (inclusive). */
export function expectedSlots(spec: TaskSpec, until: number): number[] {
  const slots: number[] = [];
  for (let slot = firstSlot(spec); slot <= until; slot += stepOf(spec)) slots.push(slot);
  return slots;
}

/** Time between two runs of the task. */
export function stepOf(spec: TaskSpec): number {
  return spec.kind === 'interval' ? spec.everyMs : 60_000;
}

/** The task's first run: one interval after date_changed, or the next whole minute. */
export function firstSlot(spec: TaskSpec): number {
  const step = stepOf(spec);
  return spec.kind === 'interval' ? spec.dateChanged + step : Math.floor(spec.dateChanged / step) * step + step;
}

/** One message as the broker held it. */
export interface SentRun {
  /** Celery task id (headers.id). */
  id: string;
  /** headers.periodic_task_name */
  name: string;
  /** headers.dbbeat_scheduled_at, epoch ms. */
  slot: number;
}

function runOfHeaders(headers: Record<string, unknown>): SentRun {
  const id = headers.id;
  const name = headers.periodic_task_name;
  const scheduled = headers.dbbeat_scheduled_at;
  if (typeof id !== 'string' || typeof name !== 'string' || typeof scheduled !== 'string') {
    throw new Error(`message without id / periodic_task_name / dbbeat_scheduled_at: ${JSON.stringify(headers)}`);
  }
  return { id, name, slot: Date.parse(scheduled) };
}

/** Every kombu envelope on a Redis list, oldest first, without removing them. */
export async function readRedisRuns(redis: Redis, list: string): Promise<SentRun[]> {
  const runs: SentRun[] = [];
  const length = await redis.llen(list);
  const chunk = 2000;
  for (let start = 0; start < length; start += chunk) {
    const envelopes = await redis.lrange(list, start, start + chunk - 1);
    for (const text of envelopes) {
      const envelope = JSON.parse(text) as { headers: Record<string, unknown> };
      runs.push(runOfHeaders(envelope.headers));
    }
  }
  return runs.reverse(); // LPUSH: the newest is at the head
}

/** Deletes a queue's list, its kombu binding and the dedupe markers of these runs. */
export async function deleteRedisRuns(redis: Redis, queue: string, runs: readonly SentRun[]): Promise<void> {
  await redis.del(queue, `_kombu.binding.${queue}`);
  const ids = [...new Set(runs.map((run) => run.id))];
  for (let start = 0; start < ids.length; start += 1000) {
    await redis.del(...ids.slice(start, start + 1000).map((id) => `dbbeat:sent:${id}`));
  }
}

/** Drains a RabbitMQ queue (acknowledging everything) and deletes it. */
export async function drainAmqpQueue(url: string, queue: string): Promise<SentRun[]> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    const runs: SentRun[] = [];
    for (;;) {
      const message = await channel.get(queue, { noAck: true });
      if (message === false) break;
      runs.push(runOfHeaders(message.properties.headers ?? {}));
    }
    await channel.deleteQueue(queue);
    await channel.close();
    return runs;
  } finally {
    await connection.close();
  }
}

/** Deletes a RabbitMQ queue if it exists (cleanup after a failure). */
export async function deleteAmqpQueue(url: string, queue: string): Promise<void> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    await channel.deleteQueue(queue);
    await channel.close();
  } finally {
    await connection.close();
  }
}

/** The verdict on what the broker held, against what was scheduled up to a moment. */
export interface RunAudit {
  /** Slots expected up to `until`, over all tasks. */
  expected: number;
  /** Messages held (all of them, also after `until`). */
  messages: number;
  /** Messages whose (task, slot) was already held once before. */
  duplicates: number;
  /** Duplicates whose task id differs from the first copy's (consumers could not dedupe). */
  duplicatesWithOtherId: number;
  /** Distinct task ids held more than once. */
  repeatedIds: number;
  /** Expected (task, slot) pairs that no message carries, as "name@iso". */
  missing: string[];
  /** Messages for a slot that was never due (off the schedule's grid, or an unknown task). */
  unexpected: string[];
}

/** Compares what the broker held with every slot due up to `until`. */
export function auditRuns(specs: readonly TaskSpec[], runs: readonly SentRun[], until: number): RunAudit {
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const idOfSlot = new Map<string, string>();
  const idCounts = new Map<string, number>();
  let duplicates = 0;
  let duplicatesWithOtherId = 0;
  const unexpected: string[] = [];
  for (const run of runs) {
    idCounts.set(run.id, (idCounts.get(run.id) ?? 0) + 1);
    const key = `${run.name}@${new Date(run.slot).toISOString()}`;
    const firstId = idOfSlot.get(key);
    if (firstId !== undefined) {
      duplicates += 1;
      if (firstId !== run.id) duplicatesWithOtherId += 1;
      continue;
    }
    idOfSlot.set(key, run.id);
    const spec = byName.get(run.name);
    if (!spec || run.slot < firstSlot(spec) || (run.slot - firstSlot(spec)) % stepOf(spec) !== 0) unexpected.push(key);
  }
  const missing: string[] = [];
  let expected = 0;
  for (const spec of specs) {
    for (const slot of expectedSlots(spec, until)) {
      expected += 1;
      const key = `${spec.name}@${new Date(slot).toISOString()}`;
      if (!idOfSlot.has(key)) missing.push(key);
    }
  }
  const repeatedIds = [...idCounts.values()].filter((count) => count > 1).length;
  return { expected, messages: runs.length, duplicates, duplicatesWithOtherId, repeatedIds, missing, unexpected };
}

/**
 * A readable diagnosis of a failed audit: per task with a problem, how many slots are
 * missing or off the grid, and the first few sent slots, so a shifted grid or a gap shows.
 */
export function describeAudit(audit: RunAudit, specs: readonly TaskSpec[], runs: readonly SentRun[]): string {
  const problems = new Map<string, { missing: string[]; unexpected: string[] }>();
  const entry = (key: string) => {
    const name = key.slice(0, key.lastIndexOf('@'));
    let found = problems.get(name);
    if (!found) problems.set(name, (found = { missing: [], unexpected: [] }));
    return found;
  };
  for (const key of audit.missing) entry(key).missing.push(key.slice(key.lastIndexOf('@') + 1));
  for (const key of audit.unexpected) entry(key).unexpected.push(key.slice(key.lastIndexOf('@') + 1));
  const lines = [`${problems.size} of ${specs.length} tasks have missing or off-grid runs`];
  for (const [name, found] of [...problems].slice(0, 8)) {
    const spec = specs.find((candidate) => candidate.name === name);
    const sent = runs.filter((run) => run.name === name).map((run) => new Date(run.slot).toISOString().slice(11, 19));
    lines.push(
      `${name} (${spec ? `step ${stepOf(spec) / 1000}s, first ${new Date(firstSlot(spec)).toISOString()}` : 'unknown'}): ` +
        `${found.missing.length} missing [${found.missing.slice(0, 5).join(', ')}…], ` +
        `${found.unexpected.length} off-grid [${found.unexpected.slice(0, 5).join(', ')}…], sent ${sent.length}: ${sent.slice(0, 12).join(' ')}…`,
    );
  }
  return lines.join('\n');
}

/** Sleeps; for pacing a scenario (what happens meanwhile is awaited by events elsewhere). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` every `everyMs` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(everyMs);
  }
}

/** Median and max of a list of numbers. */
export function summarize(values: readonly number[]): { medianMs: number; maxMs: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median =
    sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { medianMs: Math.round(median), maxMs: Math.round(sorted.at(-1) ?? NaN) };
}

export { Redis };
