// The floor: what this machine can do for a burst, with no scheduling at all. Envelopes are
// ready before the clock starts (dbbeat's own Redis envelope, one per task); the timed part
// pipelines their LPUSHes in batches of 2,000 and records each batch with one UPDATE of
// last_run_at and total_run_count on a table shaped like django-celery-beat's periodictask
// (its unique name and foreign-key indexes: migrations/0001, without dbbeat's triggers).
// A batch is recorded only after Redis accepted it, and its UPDATE runs while the next
// batch's LPUSHes go out. Any beat can only approach this.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import type { Redis } from 'ioredis';

import type { TaskMessage } from '../src/broker/types.js';
import { type EnvelopeBuilder, envelopeSource, loadEnvelopeBuilder } from './support/envelope.js';
import { type BenchDatabase, createBenchDatabase } from './support/postgres.js';
import { connectRedis, DBBEAT_REDIS_DB, queueCleanup, queueLength } from './support/redis.js';
import type { Figure } from './support/results.js';
import { insertIntervalTasks, TASK_TABLE } from './support/rows.js';
import { median } from './support/stats.js';

/** Messages per LPUSH pipeline and per UPDATE. */
export const FLOOR_BATCH = 2_000;
/**
 * Distinct envelopes kept ready: beyond this, rows reuse them in turn (same sizes, same
 * Redis work), so a million-row floor does not need a gigabyte of strings.
 */
const DISTINCT_ENVELOPES = 100_000;

const TABLES_SQL = fileURLToPath(new URL('../migrations/0001_django_celery_beat_tables.sql', import.meta.url));

interface TaskRowLite {
  id: number;
  name: string;
  task: string;
  args: string;
  kwargs: string;
  queue: string | null;
  priority: number | null;
  headers: string;
}

/** One floor run: seconds to push and record `count` due tasks (setup and envelope building excluded). */
export async function floorBurstRun(count: number): Promise<{ seconds: number; sent: number }> {
  const db = await createBenchDatabase('dbbeat_bench_floor');
  const redis = connectRedis(DBBEAT_REDIS_DB);
  const queue = `bench_floor_${randomBytes(4).toString('hex')}`;
  const dropQueue = queueCleanup(DBBEAT_REDIS_DB, queue);
  try {
    await db.pool.query(await readFile(TABLES_SQL, 'utf8'));
    await insertIntervalTasks(db.pool, {
      count,
      namePrefix: 'floor_',
      queue,
      everySeconds: 3600,
      lastRunAt: new Date(Date.now() - 86_400_000),
    });
    const { ids, envelopes } = await readyEnvelopes(db, await loadEnvelopeBuilder());
    const started = performance.now();
    await pushAndRecord(db, redis, queue, ids, envelopes);
    const seconds = (performance.now() - started) / 1000;
    const sent = await queueLength(redis, queue);
    if (sent !== count) throw new Error(`floor sent ${sent} of ${count} messages to ${queue}`);
    return { seconds, sent };
  } finally {
    await dropQueue();
    redis.disconnect();
    await db.drop();
  }
}

/** Every task id, and the envelope for each of the first DISTINCT_ENVELOPES rows. */
async function readyEnvelopes(
  db: BenchDatabase,
  build: EnvelopeBuilder,
): Promise<{ ids: Int32Array; envelopes: string[] }> {
  const { rows: idRows } = await db.pool.query<{ id: number }>(`SELECT id FROM ${TASK_TABLE} ORDER BY id`);
  const ids = Int32Array.from(idRows, (row) => row.id);
  const { rows } = await db.pool.query<TaskRowLite>(
    `SELECT id, name, task, args, kwargs, queue, priority, headers FROM ${TASK_TABLE} ORDER BY id LIMIT $1`,
    [DISTINCT_ENVELOPES],
  );
  const now = new Date();
  return { ids, envelopes: rows.map((row) => build(toMessage(row, now), now)) };
}

/** The timed part: batch i+1's LPUSHes overlap batch i's UPDATE; a batch is recorded after Redis accepted it. */
async function pushAndRecord(
  db: BenchDatabase,
  redis: Redis,
  queue: string,
  ids: Int32Array,
  envelopes: string[],
): Promise<void> {
  let recording: Promise<unknown> | undefined;
  for (let start = 0; start < ids.length; start += FLOOR_BATCH) {
    const end = Math.min(ids.length, start + FLOOR_BATCH);
    const pipeline = redis.pipeline();
    for (let i = start; i < end; i++) pipeline.lpush(queue, envelopes[i % envelopes.length]!);
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([error]) => error !== null);
    if (failed) throw failed[0]!;
    await recording;
    const batch = Array.from(ids.subarray(start, end));
    const at = new Date();
    recording = db.pool.query(
      `UPDATE ${TASK_TABLE} AS t SET last_run_at = $2, total_run_count = t.total_run_count + 1
         FROM unnest($1::int[]) AS u(id) WHERE t.id = u.id`,
      [batch, at],
    );
  }
  await recording;
}

function toMessage(row: TaskRowLite, now: Date): TaskMessage {
  return {
    id: randomUUID(),
    task: row.task,
    args: JSON.parse(row.args) as unknown[],
    kwargs: JSON.parse(row.kwargs) as Record<string, unknown>,
    queue: row.queue,
    exchange: null,
    routingKey: null,
    priority: row.priority,
    headers: JSON.parse(row.headers) as Record<string, unknown>,
    expires: null,
    periodicTaskName: row.name,
    scheduledAt: now,
  };
}

/** Runs the floor for each size (median of `repeats(size)` runs) and returns its figures. */
export async function benchFloor(options: {
  sizes: readonly number[];
  repeats: (size: number) => number;
  log: (line: string) => void;
}): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const size of options.sizes) {
    const seconds: number[] = [];
    for (let i = 0; i < options.repeats(size); i++) {
      const run = await floorBurstRun(size);
      options.log(`floor burst ${size}: ${run.seconds.toFixed(3)} s`);
      seconds.push(run.seconds);
    }
    const value = median(seconds);
    const note = `envelopes from ${envelopeSource} built beforehand; batches of ${FLOOR_BATCH}; setup excluded`;
    figures.push({
      workload: 'burst',
      subject: 'floor',
      size,
      metric: 'seconds',
      value,
      unit: 's',
      runs: seconds.length,
      note,
    });
    figures.push({
      workload: 'burst',
      subject: 'floor',
      size,
      metric: 'runs_per_second',
      value: value === null ? null : size / value,
      unit: 'runs/s',
      runs: seconds.length,
    });
  }
  return figures;
}
