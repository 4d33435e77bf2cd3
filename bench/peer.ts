// The django-celery-beat peer: Debian's django-celery-beat 2.4 on Celery 5.2, run as
// `celery -A benchapp beat -S django_celery_beat.schedulers:DatabaseScheduler` on its own
// PostgreSQL database and Redis db 12.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import type { Redis } from 'ioredis';

import { type BenchDatabase, createBenchDatabase } from './support/postgres.js';
import { type MeasuredProcess, runCommand, startMeasuredProcess } from './support/process.js';
import { connectRedis, PEER_REDIS_DB, queueCleanup, waitForQueueLength } from './support/redis.js';
import type { Figure } from './support/results.js';
import { bumpPeriodicTasks, insertIntervalTasks } from './support/rows.js';
import { median, quantile, sleep } from './support/stats.js';

const PYTHON = '/usr/bin/python3';
const PEER_DIR = fileURLToPath(new URL('./peer/', import.meta.url));
const PEER_BROKER = `redis://127.0.0.1:6379/${PEER_REDIS_DB}`;

/** A fresh database with django-celery-beat's tables, made by Django's own migrate. */
export async function createPeerDatabase(prefix = 'dbbeat_bench_peer'): Promise<BenchDatabase> {
  const db = await createBenchDatabase(prefix);
  await runCommand(PYTHON, ['migrate.py'], {
    cwd: PEER_DIR,
    env: { BENCH_PEER_DB: db.name, PYTHONDONTWRITEBYTECODE: '1' },
  });
  return db;
}

/** Starts `celery beat` with the DatabaseScheduler on `db`. */
export function startPeerBeat(db: BenchDatabase): MeasuredProcess {
  return startMeasuredProcess(
    PYTHON,
    [
      '-m',
      'celery',
      '-A',
      'benchapp',
      'beat',
      '-S',
      'django_celery_beat.schedulers:DatabaseScheduler',
      '--loglevel',
      'WARNING',
      '--pidfile=',
    ],
    {
      cwd: PEER_DIR,
      env: {
        BENCH_PEER_DB: db.name,
        BENCH_PEER_BROKER: PEER_BROKER,
        PYTHONPATH: PEER_DIR,
        PYTHONDONTWRITEBYTECODE: '1',
      },
      label: 'django-celery-beat',
    },
  );
}

/** Result of one burst run. */
export interface BurstRun {
  /** Seconds from process start until all N messages were in Redis; null on timeout. */
  seconds: number | null;
  /** Messages seen when the run ended. */
  seen: number;
  note?: string;
}

/**
 * Burst: N interval tasks all due at start (last_run_at a day ago; django-celery-beat 2.4
 * treats a null last_run_at as "now", so rows must carry an old one to be due), then
 * seconds from `celery beat` start until all N messages are in Redis.
 */
export async function peerBurstRun(count: number, timeoutMs: number): Promise<BurstRun> {
  const db = await createPeerDatabase();
  const redis = connectRedis(PEER_REDIS_DB);
  const queue = `bench_peer_burst_${randomBytes(4).toString('hex')}`;
  const dropQueue = queueCleanup(PEER_REDIS_DB, queue);
  try {
    await insertIntervalTasks(db.pool, {
      count,
      namePrefix: 'burst_',
      queue,
      everySeconds: 3600,
      lastRunAt: new Date(Date.now() - 86_400_000),
    });
    const beat = startPeerBeat(db);
    try {
      const result = await waitForQueueLength(redis, queue, count, {
        timeoutMs,
        pollMs: 25,
        stop: () => beat.exited(),
      });
      if (result.at === null) {
        return { seconds: null, seen: result.seen, note: `${result.reason}; ${result.seen}/${count} sent` };
      }
      return { seconds: (result.at - beat.startedAt) / 1000, seen: result.seen };
    } finally {
      await beat.stop();
    }
  } finally {
    await dropQueue();
    redis.disconnect();
    await db.drop();
  }
}

/** Result of a change-pickup series. */
export interface PickupSeries {
  samplesMs: number[];
  /** Tries that timed out. */
  missed: number;
}

/**
 * Change pickup: with `loaded` tasks none due, insert one due task with raw SQL plus a
 * PeriodicTasks bump (what Django admin's signals do) and time until its message is in
 * Redis, measured from the start of the insert. The first try also waits out startup and is discarded.
 */
export async function peerPickupSeries(loaded: number, tries: number, timeoutMs: number): Promise<PickupSeries> {
  const db = await createPeerDatabase();
  const blocking = connectRedis(PEER_REDIS_DB);
  const queue = `bench_peer_pick_${randomBytes(4).toString('hex')}`;
  const dropQueue = queueCleanup(PEER_REDIS_DB, queue);
  const idle = `bench_peer_idle_${randomBytes(4).toString('hex')}`;
  const dropIdle = queueCleanup(PEER_REDIS_DB, idle);
  try {
    await insertIntervalTasks(db.pool, {
      count: loaded,
      namePrefix: 'loaded_',
      queue: idle,
      everySeconds: 86_400,
      lastRunAt: new Date(),
    });
    const beat = startPeerBeat(db);
    try {
      const samplesMs: number[] = [];
      let missed = 0;
      for (let attempt = 0; attempt <= tries; attempt++) {
        // A random pause so tries do not fall in step with the peer's 5 s polling.
        await sleep(Math.random() * 1000);
        // A queue per try: a late duplicate of an earlier try's task cannot pass for this one.
        const tryQueue = `${queue}_${attempt}`;
        const dropTryQueue = queueCleanup(PEER_REDIS_DB, tryQueue);
        const elapsed = await insertAndAwait(db, blocking, tryQueue, `pick_${attempt}`, timeoutMs);
        await dropTryQueue();
        if (beat.exited() !== null) throw new Error(`${beat.exited()}\n${beat.tail()}`);
        if (attempt === 0) continue; // warm-up: includes the peer's startup and first load
        if (elapsed === null) missed++;
        else samplesMs.push(elapsed);
      }
      return { samplesMs, missed };
    } finally {
      await beat.stop();
    }
  } finally {
    await dropQueue();
    await dropIdle();
    blocking.disconnect();
    await db.drop();
  }
}

async function insertAndAwait(
  db: BenchDatabase,
  blocking: Redis,
  queue: string,
  name: string,
  timeoutMs: number,
): Promise<number | null> {
  const insertStartedAt = performance.now();
  await insertIntervalTasks(db.pool, {
    count: 1,
    namePrefix: name,
    queue,
    everySeconds: 3600,
    lastRunAt: new Date(Date.now() - 7_200_000),
  });
  await bumpPeriodicTasks(db.pool);
  const reply = await blocking.brpop(queue, Math.ceil(timeoutMs / 1000));
  return reply === null ? null : performance.now() - insertStartedAt;
}

/** Runs the peer's workloads for the given sizes and returns its figures. */
export async function benchPeer(options: {
  sizes: readonly number[];
  workloads: ReadonlySet<string>;
  repeats: (size: number) => number;
  burstTimeoutMs: number;
  pickupLoaded: number;
  pickupTries: number;
  log: (line: string) => void;
}): Promise<Figure[]> {
  const figures: Figure[] = [];
  if (options.workloads.has('burst')) {
    for (const size of options.sizes) {
      // The peer is quadratic; beyond 10k it would run for hours.
      if (size > 10_000) {
        figures.push(burstFigure(size, null, 0, 'not run: django-celery-beat needs minutes already at 10k'));
        continue;
      }
      const runs: BurstRun[] = [];
      for (let i = 0; i < options.repeats(size); i++) {
        const run = await peerBurstRun(size, options.burstTimeoutMs);
        options.log(`peer burst ${size}: ${run.seconds === null ? run.note : `${run.seconds.toFixed(2)} s`}`);
        runs.push(run);
        if (run.seconds === null) break; // a timeout is the figure; do not repeat it
      }
      const done = runs.map((run) => run.seconds).filter((s): s is number => s !== null);
      const failed = runs.find((run) => run.seconds === null);
      const figure = burstFigure(size, failed ? null : median(done), runs.length, failed?.note);
      // A timeout is a lower bound on the peer's time, and the ratios can use it as one.
      figures.push(failed ? { ...figure, atLeast: options.burstTimeoutMs / 1000 } : figure);
    }
  }
  if (options.workloads.has('pickup')) {
    const series = await peerPickupSeries(options.pickupLoaded, options.pickupTries, 30_000);
    options.log(`peer pickup ${options.pickupLoaded}: ${series.samplesMs.map((ms) => ms.toFixed(0)).join(', ')} ms`);
    for (const [metric, q] of [
      ['pickup_median_ms', 0.5],
      ['pickup_p99_ms', 0.99],
    ] as const) {
      figures.push({
        workload: 'pickup',
        subject: 'peer',
        size: options.pickupLoaded,
        metric,
        value: q === 0.5 ? median(series.samplesMs) : quantile(series.samplesMs, q),
        unit: 'ms',
        runs: series.samplesMs.length,
        variant: 'raw SQL',
        note: `plus the PeriodicTasks bump Django's signals make${series.missed > 0 ? `; ${series.missed} tries timed out` : ''}`,
      });
    }
  }
  return figures;
}

function burstFigure(size: number, seconds: number | null, runs: number, note?: string): Figure {
  return {
    workload: 'burst',
    subject: 'peer',
    size,
    metric: 'seconds',
    value: seconds,
    unit: 's',
    runs,
    ...(note === undefined ? {} : { note }),
  };
}
