// BullMQ side by side: the Node tool a TypeScript team would pick instead of a Celery beat.
// One job scheduler per task (`Queue.upsertJobScheduler`, repeating every hour, its first
// job produced at once) on the same Redis as dbbeat, under a private key prefix; timed from
// the first upsert until all N jobs wait. In-process: BullMQ's figure excludes process
// start, dbbeat's includes it (so the comparison favours BullMQ).
import { randomBytes } from 'node:crypto';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { onCleanup } from './support/cleanup.js';
import { DBBEAT_REDIS_DB } from './support/redis.js';
import type { Figure } from './support/results.js';
import { BENCH_TASK_NAME } from './support/rows.js';
import { median, sleep } from './support/stats.js';

/** Upserts in flight at once (ioredis pipelines them on one connection). */
const IN_FLIGHT = 1_000;

/** One run: seconds from the first upsertJobScheduler until `count` jobs wait. */
export async function bullmqBurstRun(
  count: number,
  timeoutMs: number,
): Promise<{ seconds: number | null; waiting: number }> {
  const prefix = `bench_bullmq_${randomBytes(4).toString('hex')}`;
  const connection = { host: '127.0.0.1', port: 6379, db: DBBEAT_REDIS_DB, maxRetriesPerRequest: null };
  const queue = new Queue('burst', { connection, prefix });
  const removeKeys = onCleanup(`delete BullMQ keys ${prefix}:*`, () => deleteByPrefix(`${prefix}:`));
  const closeQueue = onCleanup(`close BullMQ queue ${prefix}`, () => queue.close());
  try {
    await queue.waitUntilReady();
    const started = performance.now();
    for (let start = 0; start < count; start += IN_FLIGHT) {
      const upserts: Promise<unknown>[] = [];
      for (let i = start; i < Math.min(count, start + IN_FLIGHT); i++) {
        upserts.push(
          queue.upsertJobScheduler(`task_${i}`, { every: 3_600_000 }, { name: BENCH_TASK_NAME, data: { args: [i] } }),
        );
      }
      await Promise.all(upserts);
    }
    const deadline = started + timeoutMs;
    let waiting = await queue.getWaitingCount();
    while (waiting < count && performance.now() < deadline) {
      await sleep(10);
      waiting = await queue.getWaitingCount();
    }
    return { seconds: waiting >= count ? (performance.now() - started) / 1000 : null, waiting };
  } finally {
    await closeQueue();
    await removeKeys();
  }
}

async function deleteByPrefix(prefix: string): Promise<void> {
  const redis = new Redis({ host: '127.0.0.1', port: 6379, db: DBBEAT_REDIS_DB, maxRetriesPerRequest: 2 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 10_000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** BullMQ's figures for each burst size (median of `repeats(size)` runs). */
export async function benchBullmq(options: {
  sizes: readonly number[];
  repeats: (size: number) => number;
  log: (line: string) => void;
}): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const size of options.sizes) {
    const seconds: number[] = [];
    let note: string | undefined;
    for (let i = 0; i < options.repeats(size); i++) {
      const run = await bullmqBurstRun(size, Math.max(120_000, size * 0.3));
      options.log(
        `bullmq burst ${size}: ${run.seconds === null ? `timed out with ${run.waiting} waiting` : `${run.seconds.toFixed(3)} s`}`,
      );
      if (run.seconds === null) {
        note = `timed out with ${run.waiting}/${size} waiting`;
        break;
      }
      seconds.push(run.seconds);
    }
    const value = note === undefined ? median(seconds) : null;
    const base = { workload: 'burst', subject: 'bullmq' as const, size, runs: seconds.length };
    figures.push(
      {
        ...base,
        metric: 'seconds',
        value,
        unit: 's',
        note: note ?? 'upsertJobScheduler (every 1 h) per task until all jobs wait; in-process, process start excluded',
      },
      { ...base, metric: 'runs_per_second', value: value === null ? null : size / value, unit: 'runs/s' },
    );
  }
  return figures;
}
