// The floor: the fastest sender this machine allows. A plain loop reads due rows in id
// order, pipelines one LPUSH per message (the real envelope) and records last_run_at and
// total_run_count with one batched UPDATE per batch. No scheduling logic at all, so any
// beat can only approach it.
import { randomBytes, randomUUID } from 'node:crypto';

import type { Redis } from 'ioredis';

import type { TaskMessage } from '../src/broker/types.js';
import { createPeerDatabase } from './peer.js';
import { type EnvelopeBuilder, envelopeSource, loadEnvelopeBuilder } from './support/envelope.js';
import type { BenchDatabase } from './support/postgres.js';
import { connectRedis, DBBEAT_REDIS_DB, queueCleanup, queueLength } from './support/redis.js';
import type { Figure } from './support/results.js';
import { insertIntervalTasks, TASK_TABLE } from './support/rows.js';
import { median } from './support/stats.js';

/** Rows per read, LPUSH pipeline and UPDATE. */
const BATCH = 5_000;

interface DueRow {
  id: number;
  name: string;
  task: string;
  args: string;
  kwargs: string;
  queue: string | null;
  priority: number | null;
  headers: string;
}

/** One floor run: seconds to send and record `count` due tasks (setup excluded). */
export async function floorBurstRun(count: number): Promise<{ seconds: number; sent: number }> {
  const db = await createPeerDatabase('dbbeat_bench_floor');
  const redis = connectRedis(DBBEAT_REDIS_DB);
  const queue = `bench_floor_${randomBytes(4).toString('hex')}`;
  const dropQueue = queueCleanup(DBBEAT_REDIS_DB, queue);
  try {
    await insertIntervalTasks(db.pool, {
      count,
      namePrefix: 'floor_',
      queue,
      everySeconds: 3600,
      lastRunAt: new Date(Date.now() - 86_400_000),
    });
    const build = await loadEnvelopeBuilder();
    const started = performance.now();
    await sendAllDue(db, redis, build);
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

/** Reads, pushes and records every enabled task, batch by batch; the next read overlaps the current push. */
async function sendAllDue(db: BenchDatabase, redis: Redis, build: EnvelopeBuilder): Promise<void> {
  const read = (afterId: number): Promise<DueRow[]> =>
    db.pool
      .query<DueRow>(
        `SELECT id, name, task, args, kwargs, queue, priority, headers FROM ${TASK_TABLE}
          WHERE enabled AND id > $1 ORDER BY id LIMIT $2`,
        [afterId, BATCH],
      )
      .then((result) => result.rows);
  let rows = await read(0);
  while (rows.length > 0) {
    const next = read(rows[rows.length - 1]!.id);
    const now = new Date();
    const pipeline = redis.pipeline();
    for (const row of rows) pipeline.lpush(row.queue ?? 'celery', build(toMessage(row, now), now));
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([error]) => error !== null);
    if (failed) throw failed[0]!;
    // Recorded only after Redis accepted the batch, as a beat must.
    await db.pool.query(
      `UPDATE ${TASK_TABLE} AS t SET last_run_at = u.at, total_run_count = t.total_run_count + 1
         FROM unnest($1::int[], $2::timestamptz[]) AS u(id, at) WHERE t.id = u.id`,
      [rows.map((row) => row.id), rows.map(() => now)],
    );
    rows = await next;
  }
}

function toMessage(row: DueRow, now: Date): TaskMessage {
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
      options.log(`floor burst ${size}: ${run.seconds.toFixed(3)} s (${envelopeSource})`);
      seconds.push(run.seconds);
    }
    const value = median(seconds);
    const note = `envelope from ${envelopeSource}; setup excluded`;
    figures.push({ workload: 'burst', subject: 'floor', size, metric: 'seconds', value, unit: 's', runs: seconds.length, note });
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
