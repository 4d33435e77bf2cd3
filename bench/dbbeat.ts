// dbbeat's side of the benchmark, black-box: `node bin/dbbeat.js beat` as a child process
// (so process start and peak RSS are measurable) on its own database and Redis db 13.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import type { Redis } from 'ioredis';

import { type BenchDatabase, createBenchDatabase } from './support/postgres.js';
import { type MeasuredProcess, runCommand, startMeasuredProcess } from './support/process.js';
import { connectRedis, DBBEAT_REDIS_DB, queueCleanup, waitForQueueLength } from './support/redis.js';
import { ensureIntervalSchedule, insertIntervalTasks, insertMixedTasks, TASK_TABLE } from './support/rows.js';
import { sleep } from './support/stats.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/dbbeat.js', import.meta.url));
const BROKER = `redis://127.0.0.1:6379/${DBBEAT_REDIS_DB}`;
/** Node flags for the beat alone (given in NODE_OPTIONS), e.g. DBBEAT_BENCH_NODE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/p'. */
const NODE_FLAGS = (process.env.DBBEAT_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);

/** dbbeat could not be run here yet (command missing or failing): the workload is skipped. */
export class NotAvailableError extends Error {
  constructor(detail: string) {
    super(`not available yet: ${detail}`);
    this.name = 'NotAvailableError';
  }
}

/** Starts `dbbeat beat` on `db`, publishing to Redis db 13. */
export function startDbbeat(
  db: BenchDatabase,
  logLevel: 'INFO' | 'WARNING' = 'WARNING',
  extraArgs: readonly string[] = [],
): MeasuredProcess {
  // The command itself, as a user runs it (its #! line gives node its flags); extra node
  // flags go in NODE_OPTIONS.
  return startMeasuredProcess(BIN, ['beat', '--database-url', db.url, '-b', BROKER, '-l', logLevel, ...extraArgs], {
    cwd: ROOT,
    label: 'dbbeat beat',
    env: NODE_FLAGS.length > 0 ? { NODE_OPTIONS: NODE_FLAGS.join(' ') } : undefined,
  });
}

/**
 * A fresh database with dbbeat's schema. Tries `dbbeat migrate`; where that command does
 * not exist, lets `dbbeat beat` migrate on start (waiting for its "ready" line) and stops it.
 */
export async function createDbbeatDatabase(): Promise<BenchDatabase> {
  const db = await createBenchDatabase('dbbeat_bench_dbbeat');
  try {
    await runCommand(process.execPath, [BIN, 'migrate', '--database-url', db.url], { cwd: ROOT, timeoutMs: 60_000 });
    return db;
  } catch {
    // No migrate command yet: fall through to the beat's own migration on start.
  }
  const beat = startDbbeat(db, 'INFO');
  try {
    const ready = await beat.waitForLine(/ready/i, 60_000);
    if (ready === null) {
      throw new NotAvailableError(`dbbeat beat did not log "ready" on an empty database:\n${beat.tail()}`);
    }
    return db;
  } catch (error) {
    await db.drop();
    throw error;
  } finally {
    await beat.stop();
  }
}

/** Result of one burst run. */
export interface DbbeatBurstRun {
  seconds: number | null;
  seen: number;
  peakRssBytes: number | null;
  note?: string;
}

/** Burst: N interval tasks all due at start; seconds from `dbbeat beat` start until all N are in Redis. */
export async function dbbeatBurstRun(
  count: number,
  timeoutMs: number,
  extraArgs: readonly string[] = [],
): Promise<DbbeatBurstRun> {
  const db = await createDbbeatDatabase();
  const redis = connectRedis(DBBEAT_REDIS_DB);
  const queue = `bench_dbbeat_burst_${randomBytes(4).toString('hex')}`;
  const dropQueue = queueCleanup(DBBEAT_REDIS_DB, queue, { dedupeMarkers: true });
  try {
    await insertIntervalTasks(db.pool, {
      count,
      namePrefix: 'burst_',
      queue,
      everySeconds: 3600,
      lastRunAt: new Date(Date.now() - 86_400_000),
    });
    const beat = startDbbeat(db, 'WARNING', extraArgs);
    try {
      const result = await waitForQueueLength(redis, queue, count, {
        timeoutMs,
        pollMs: 10,
        stop: () => beat.exited(),
      });
      const peakRssBytes = await beat.peakRss();
      if (result.at === null) {
        if (result.seen === 0 && beat.exited() !== null)
          throw new NotAvailableError(`${beat.exited()}\n${beat.tail()}`);
        return {
          seconds: null,
          seen: result.seen,
          peakRssBytes,
          note: `${result.reason}; ${result.seen}/${count} sent`,
        };
      }
      return { seconds: (result.at - beat.startedAt) / 1000, seen: result.seen, peakRssBytes };
    } finally {
      await beat.stop();
    }
  } finally {
    await dropQueue();
    redis.disconnect();
    await db.drop();
  }
}

/** How the startup workload's tables were left: analysed, or right after the bulk insert. */
export type StartupVariant = 'after ANALYZE' | 'no statistics';

/**
 * Startup: N enabled tasks, none due (half crontab over 1,000 schedules in 4 zones, half
 * interval); seconds from spawn until the beat logs "ready", and peak RSS then.
 */
export async function dbbeatStartupRun(
  count: number,
  variant: StartupVariant,
): Promise<{ seconds: number; peakRssBytes: number | null }> {
  const db = await createDbbeatDatabase();
  // None is due at start, but a crontab whose minute comes while the beat runs is sent.
  const queue = `bench_dbbeat_idle_${randomBytes(4).toString('hex')}`;
  const dropQueue = queueCleanup(DBBEAT_REDIS_DB, queue, { dedupeMarkers: true });
  try {
    await insertMixedTasks(db.pool, { count, crontabs: 1000, queue, analyze: variant === 'after ANALYZE' });
    const beat = startDbbeat(db, 'INFO');
    try {
      const ready = await beat.waitForLine(/ready/i, 300_000);
      if (ready === null)
        throw new NotAvailableError(`no "ready" line within 300 s: ${beat.exited() ?? ''}\n${beat.tail()}`);
      return { seconds: (ready - beat.startedAt) / 1000, peakRssBytes: await beat.peakRss() };
    } finally {
      await beat.stop();
    }
  } finally {
    await dropQueue();
    await db.drop();
  }
}

/** How the due task of a pickup try is written. */
export type InsertPath = 'raw SQL' | 'Prisma client';

/**
 * Change pickup: with `loaded` tasks none due and the beat ready, insert one due task
 * (raw SQL or the Prisma client, no manual PeriodicTasks bump: dbbeat's triggers see it)
 * and time from the start of the insert until its message is in Redis.
 */
export async function dbbeatPickupSeries(
  loaded: number,
  tries: number,
  paths: readonly InsertPath[],
): Promise<Map<InsertPath, { samplesMs: number[]; missed: number }>> {
  const db = await createDbbeatDatabase();
  const blocking = connectRedis(DBBEAT_REDIS_DB);
  const queue = `bench_dbbeat_pick_${randomBytes(4).toString('hex')}`;
  const dropQueue = queueCleanup(DBBEAT_REDIS_DB, queue, { dedupeMarkers: true });
  const idle = `bench_dbbeat_idle_${randomBytes(4).toString('hex')}`;
  const dropIdle = queueCleanup(DBBEAT_REDIS_DB, idle);
  const prisma = paths.includes('Prisma client') ? await openPrisma(db.url) : null;
  try {
    await insertIntervalTasks(db.pool, {
      count: loaded,
      namePrefix: 'loaded_',
      queue: idle,
      everySeconds: 86_400,
      lastRunAt: new Date(),
    });
    const intervalId = await ensureIntervalSchedule(db.pool, 3600);
    const beat = startDbbeat(db, 'INFO');
    try {
      if ((await beat.waitForLine(/ready/i, 300_000)) === null) {
        throw new NotAvailableError(`no "ready" line: ${beat.exited() ?? ''}\n${beat.tail()}`);
      }
      const results = new Map<InsertPath, { samplesMs: number[]; missed: number }>();
      for (const path of paths) {
        const series = { samplesMs: [] as number[], missed: 0 };
        // Try 0 warms up the path (first connection, first reload) and is not counted.
        for (let attempt = 0; attempt <= tries; attempt++) {
          // A short random pause so tries do not fall in step with any polling period.
          await sleep(50 + Math.random() * 200);
          const name = `pick_${path === 'raw SQL' ? 'sql' : 'prisma'}_${attempt}`;
          // A queue per try: a late duplicate of an earlier try's task cannot pass for this one.
          const tryQueue = `${queue}_${name}`;
          const dropTryQueue = queueCleanup(DBBEAT_REDIS_DB, tryQueue);
          const lastRunAt = new Date(Date.now() - 7_200_000);
          // Timed from the start of the insert: the beat may hear the commit's NOTIFY before
          // this client sees the commit reply, so timing from the reply could read 0 ms.
          const insertStartedAt = performance.now();
          if (path === 'raw SQL') {
            await db.pool.query(
              `INSERT INTO ${TASK_TABLE} (name, task, args, kwargs, queue, enabled, last_run_at, total_run_count,
                 date_changed, description, interval_id, one_off, headers)
               VALUES ($1, 'bench.tasks.noop', '[0]', '{}', $2, true, $3, 0, now(), '', $4, false, '{}')`,
              [name, tryQueue, lastRunAt, intervalId],
            );
          } else {
            await prisma!.client.periodicTask.create({
              data: { name, task: 'bench.tasks.noop', args: '[0]', queue: tryQueue, lastRunAt, intervalId },
            });
          }
          const reply = await blocking.brpop(tryQueue, 10);
          await dropTryQueue();
          if (attempt === 0) continue;
          if (reply === null) series.missed++;
          else series.samplesMs.push(performance.now() - insertStartedAt);
          if (beat.exited() !== null) throw new Error(`${beat.exited()}\n${beat.tail()}`);
        }
        results.set(path, series);
      }
      return results;
    } finally {
      await beat.stop();
    }
  } finally {
    await prisma?.close();
    await dropQueue();
    await dropIdle();
    blocking.disconnect();
    await db.drop();
  }
}

async function openPrisma(url: string) {
  const [{ PrismaClient }, { PrismaPg }] = await Promise.all([
    import('../src/generated/prisma/client.js'),
    import('@prisma/adapter-pg'),
  ]);
  const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
  return { client, close: () => client.$disconnect() };
}

/** Result of the steady-load run. */
export interface SteadyRun {
  lagsMs: number[];
  expected: number;
  received: number;
  /** Where the scheduled time came from. */
  scheduledFrom: 'header dbbeat_scheduled_at' | 'task schedule';
}

/**
 * Steady load: `tasks` interval tasks every `everySeconds`, their runs spread evenly so
 * tasks/everySeconds fall due each second, for `durationSeconds`. A consumer drains the
 * list continuously and records lag = arrival − scheduled time.
 */
export async function dbbeatSteadyRun(
  tasks: number,
  everySeconds: number,
  durationSeconds: number,
): Promise<SteadyRun> {
  const db = await createDbbeatDatabase();
  const redis = connectRedis(DBBEAT_REDIS_DB);
  const consumer = connectRedis(DBBEAT_REDIS_DB);
  const queue = `bench_dbbeat_steady_${randomBytes(4).toString('hex')}`;
  const dropQueue = queueCleanup(DBBEAT_REDIS_DB, queue, { dedupeMarkers: true });
  const warmQueue = `bench_dbbeat_warm_${randomBytes(4).toString('hex')}`;
  const dropWarmQueue = queueCleanup(DBBEAT_REDIS_DB, warmQueue);
  try {
    // The first runs fall due 15 s after insert (plus 20 s per 100k tasks): time for the beat to start and load.
    const firstDue = Date.now() + 15_000 + tasks / 5;
    const spreadMs = everySeconds * 1000;
    await insertIntervalTasks(db.pool, {
      count: tasks,
      namePrefix: 'steady_',
      queue,
      everySeconds,
      lastRunAt: new Date(firstDue - spreadMs),
      spreadSlots: tasks,
      slotMs: spreadMs / tasks,
    });
    // One task due at once, on its own queue, tells when the beat is up.
    await insertIntervalTasks(db.pool, {
      count: 1,
      namePrefix: 'warm_',
      queue: warmQueue,
      everySeconds: 86_400,
      lastRunAt: new Date(0),
    });
    const beat = startDbbeat(db);
    try {
      const warm = await waitForQueueLength(redis, warmQueue, 1, { timeoutMs: 60_000, stop: () => beat.exited() });
      if (warm.at === null) throw new NotAvailableError(`${warm.reason ?? ''}\n${beat.tail()}`);
      const end = firstDue + durationSeconds * 1000;
      const collected = await consume(
        consumer,
        queue,
        end + 2_000,
        () => beat.exited(),
        (body, arrivedAt) => scheduledTime(body, firstDue, spreadMs, tasks, everySeconds, arrivedAt),
      );
      const lagsMs: number[] = [];
      let fromHeader = true;
      for (const scheduled of collected) {
        if (!scheduled.fromHeader) fromHeader = false;
        if (scheduled.at < end) lagsMs.push(scheduled.arrivedAt - scheduled.at);
      }
      return {
        lagsMs,
        expected: Math.round((tasks * durationSeconds) / everySeconds),
        received: lagsMs.length,
        scheduledFrom: fromHeader ? 'header dbbeat_scheduled_at' : 'task schedule',
      };
    } finally {
      await beat.stop();
    }
  } finally {
    await dropQueue();
    await dropWarmQueue();
    redis.disconnect();
    consumer.disconnect();
    await db.drop();
  }
}

/** Drains `queue` until `until` (epoch ms), stamping each message with its arrival time. */
async function consume(
  redis: Redis,
  queue: string,
  until: number,
  stopped: () => string | null,
  scheduledOf: (body: string, arrivedAt: number) => { at: number; fromHeader: boolean },
): Promise<Array<{ arrivedAt: number; at: number; fromHeader: boolean }>> {
  // Each body is read on arrival and only its two times are kept: holding 600,000 envelopes
  // (~600 MB) made this process's own GC pauses show up as the beat's lag.
  const collected: Array<{ arrivedAt: number; at: number; fromHeader: boolean }> = [];
  const take = (body: string, arrivedAt: number) => collected.push({ arrivedAt, ...scheduledOf(body, arrivedAt) });
  while (Date.now() < until && stopped() === null) {
    // BRPOP wakes on the first push; RPOP with a count then takes what else has landed,
    // until the list is empty (a consumer popping in batches of up to 1,000).
    const first = await redis.brpop(queue, 0.2);
    if (first === null) continue;
    take(first[1], Date.now());
    for (;;) {
      const rest = await redis.rpop(queue, 1000);
      const restAt = Date.now();
      for (const body of rest ?? []) take(body, restAt);
      if (rest === null || rest.length < 1000) break;
    }
  }
  return collected;
}

/** The run's scheduled time: from dbbeat's header, else from the task's place in the spread. */
const SCHEDULED_HEADER = /"dbbeat_scheduled_at":"([^"]+)"/;

function scheduledTime(
  envelope: string,
  firstDue: number,
  spreadMs: number,
  tasks: number,
  everySeconds: number,
  arrivedAt: number,
): { at: number; fromHeader: boolean } {
  // The header is plain JSON text in kombu's envelope (only the body is base64): found
  // without parsing the whole envelope, which would cost the consumer more than the beat.
  const found = SCHEDULED_HEADER.exec(envelope);
  if (found) return { at: Date.parse(found[1]!), fromHeader: true };
  const parsed = JSON.parse(envelope) as { headers?: Record<string, unknown> };
  const nameHeader = parsed.headers?.['periodic_task_name'];
  const name = typeof nameHeader === 'string' ? nameHeader : '';
  const index = Number(name.replace('steady_', ''));
  const offset = firstDue + (index % tasks) * (spreadMs / tasks);
  const periods = Math.max(0, Math.floor((arrivedAt - offset) / (everySeconds * 1000)));
  return { at: offset + periods * everySeconds * 1000, fromHeader: false };
}
