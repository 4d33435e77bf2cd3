// Reading the benchmark's Redis lists: counting what arrived and timing arrivals.
import { Redis } from 'ioredis';

import { onCleanup } from './cleanup.js';

/** Redis databases reserved for the benchmark (may be flushed): peer and dbbeat. */
export const PEER_REDIS_DB = 12;
export const DBBEAT_REDIS_DB = 13;

/** kombu's priority lists for a queue: steps 0, 3, 6, 9. */
export function priorityLists(queue: string): string[] {
  return [queue, `${queue}\x06\x163`, `${queue}\x06\x166`, `${queue}\x06\x169`];
}

/** A Redis connection on `db`, closed by the cleanup registry. */
export function connectRedis(db: number): Redis {
  const redis = new Redis({ host: '127.0.0.1', port: 6379, db, lazyConnect: false, maxRetriesPerRequest: 2 });
  onCleanup(`redis connection db ${db}`, () => {
    redis.disconnect();
  });
  return redis;
}

/** Messages waiting in a queue, over all its priority lists. */
export async function queueLength(redis: Redis, queue: string): Promise<number> {
  const pipeline = redis.pipeline();
  for (const list of priorityLists(queue)) pipeline.llen(list);
  const replies = (await pipeline.exec()) ?? [];
  let total = 0;
  for (const [error, value] of replies) {
    if (error) throw error;
    total += Number(value);
  }
  return total;
}

/**
 * Polls until `queue` holds at least `count` messages; resolves with the time
 * (performance.now()) it was first seen, or null after `timeoutMs`.
 * `stop` aborts the wait early (e.g. the process under test died).
 */
export async function waitForQueueLength(
  redis: Redis,
  queue: string,
  count: number,
  options: { timeoutMs: number; pollMs?: number; stop?: () => string | null },
): Promise<{ at: number | null; seen: number; reason?: string }> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    const seen = await queueLength(redis, queue);
    const now = performance.now();
    if (seen >= count) return { at: now, seen };
    const stopped = options.stop?.() ?? null;
    if (stopped !== null) return { at: null, seen, reason: stopped };
    if (now > deadline) return { at: null, seen, reason: `timeout after ${options.timeoutMs} ms` };
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 10));
  }
}

/**
 * Registers the deletion of a queue's lists for cleanup, on a connection of its own so it
 * works even after the workload's connections are gone. Returns a function that runs it now.
 */
export function queueCleanup(
  db: number,
  queue: string,
  options: { dedupeMarkers?: boolean } = {},
): () => Promise<void> {
  return onCleanup(`delete Redis queue ${queue} (db ${db})`, async () => {
    const redis = new Redis({ host: '127.0.0.1', port: 6379, db, maxRetriesPerRequest: 2 });
    try {
      await deleteQueue(redis, queue);
      if (options.dedupeMarkers) await deleteDedupeMarkers(redis);
    } finally {
      redis.disconnect();
    }
  });
}

/**
 * Deletes dbbeat's dedupe markers (`dbbeat:sent:<task id>`, kept a week) in this database,
 * which is the benchmark's own. Left in place, each run would start on the millions of
 * markers of the runs before it, and its SET NX would grow and rehash a keyspace that a
 * beat on a fresh Redis never sees: the figures would depend on the order of the runs.
 */
export async function deleteDedupeMarkers(redis: Redis): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', 'dbbeat:sent:*', 'COUNT', 10_000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

/** Deletes a queue's lists and kombu's binding set for it. */
export async function deleteQueue(redis: Redis, queue: string): Promise<void> {
  await redis.del(...priorityLists(queue), `_kombu.binding.${queue}`);
}
