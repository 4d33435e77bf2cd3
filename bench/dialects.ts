// dbbeat on MariaDB beside PostgreSQL: the same workloads, measured the same way, on this
// machine's PostgreSQL (5432) and MariaDB (3306), with `dbbeat beat` as a child process
// publishing to Redis db 13. `npm run bench` runs it as the `dialects` workload
// (benchDialects: figures in bench/results/latest.json and a BENCHMARKS.md table with the
// ratio MariaDB / PostgreSQL); run alone it prints one JSON object and a Markdown table.
//
//   npx tsx bench/dialects.ts [--quick | --burst-only]
//
// Workloads (per dialect): burst 10k and 100k (interval tasks all due at start; seconds
// from spawn until every message is in Redis), startup 100k (none due; seconds to "ready"),
// change pickup among 100k (a due task inserted with raw SQL; ms from the insert until its
// message is in Redis, 100 tries), and the idle cost (beat CPU and, on MariaDB, the
// server's queries per second while nothing is due).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { MysqlDatabase } from '../src/db/mysql/connection.js';
import { createBenchDatabase } from './support/postgres.js';
import { onCleanup } from './support/cleanup.js';
import { startMeasuredProcess, type MeasuredProcess } from './support/process.js';
import { connectRedis, DBBEAT_REDIS_DB, queueCleanup, waitForQueueLength } from './support/redis.js';
import { ensureIntervalSchedule, insertIntervalTasks } from './support/rows.js';
import type { Figure } from './support/results.js';
import { quantile, round, sleep } from './support/stats.js';

type Dialect = 'postgres' | 'mariadb';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/dbbeat.js', import.meta.url));
const BROKER = `redis://127.0.0.1:6379/${DBBEAT_REDIS_DB}`;
const MYSQL_SERVER = process.env.DBBEAT_BENCH_MYSQL ?? 'mysql://root@127.0.0.1:3306';
const quick = process.argv.includes('--quick');
const BIG = quick ? 20_000 : 100_000;

/** A migrated database of one dialect and the few statements the workloads need. */
interface Bench {
  url: string;
  /** Inserts `count` interval tasks on `queue`, all with this last_run_at. */
  insertInterval(count: number, queue: string, everySeconds: number, lastRunAt: Date): Promise<void>;
  /** Inserts one task (raw SQL) that is due at once. */
  insertDue(name: string, queue: string, intervalId: number): Promise<void>;
  intervalId(everySeconds: number): Promise<number>;
  /** The server's statement counter (MariaDB's Questions), or null. */
  questions(): Promise<number | null>;
  drop(): Promise<void>;
}

function migrated(url: string): void {
  execFileSync(process.execPath, [BIN, 'migrate', '--database-url', url], {
    cwd: ROOT,
    stdio: 'ignore',
    timeout: 120_000,
  });
}

async function postgresBench(): Promise<Bench> {
  const db = await createBenchDatabase('dbbeat_bench_dialect');
  migrated(db.url);
  return {
    url: db.url,
    insertInterval: (count, queue, everySeconds, lastRunAt) =>
      insertIntervalTasks(db.pool, {
        count,
        namePrefix: `t${randomBytes(3).toString('hex')}_`,
        queue,
        everySeconds,
        lastRunAt,
      }),
    intervalId: (everySeconds) => ensureIntervalSchedule(db.pool, everySeconds),
    insertDue: async (name, queue, intervalId) => {
      await db.pool.query(
        `INSERT INTO django_celery_beat_periodictask (name, task, args, kwargs, queue, enabled, last_run_at, total_run_count,
           date_changed, description, interval_id, one_off, headers)
         VALUES ($1, 'bench.tasks.noop', '[0]', '{}', $2, true, now() - interval '2 hours', 0, now(), '', $3, false, '{}')`,
        [name, queue, intervalId],
      );
    },
    questions: () => Promise.resolve(null),
    drop: () => db.drop(),
  };
}

async function mariadbBench(): Promise<Bench> {
  const name = `dbbeat_bench_dialect_${randomBytes(5).toString('hex')}`;
  const admin = new MysqlDatabase({ url: `${MYSQL_SERVER}/` });
  await admin.execute(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  const url = `${MYSQL_SERVER}/${name}`;
  const db = new MysqlDatabase({ url, poolSize: 2 });
  const drop = onCleanup(`drop database ${name}`, async () => {
    await db.close().catch(() => undefined);
    await admin.execute(`DROP DATABASE IF EXISTS \`${name}\``);
    await admin.close();
  });
  migrated(url);
  const intervalId = async (everySeconds: number) => {
    const [found] = await db.query<{ id: number }>(
      "SELECT id FROM django_celery_beat_intervalschedule WHERE every = ? AND period = 'seconds' ORDER BY id LIMIT 1",
      [everySeconds],
    );
    if (found) return found.id;
    await db.execute("INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES (?, 'seconds')", [
      everySeconds,
    ]);
    return intervalId(everySeconds);
  };
  return {
    url,
    intervalId,
    insertInterval: async (count, queue, everySeconds, lastRunAt) => {
      const id = await intervalId(everySeconds);
      const prefix = `t${randomBytes(3).toString('hex')}_`;
      // MariaDB's sequence engine (seq_0_to_N) stands in for generate_series.
      await db.execute(
        `INSERT INTO django_celery_beat_periodictask (name, task, args, kwargs, queue, enabled, last_run_at, total_run_count,
           date_changed, description, interval_id, one_off, headers)
         SELECT CONCAT(?, seq), 'bench.tasks.noop', CONCAT('[', seq, ']'), '{}', ?, 1, ?, 0, UTC_TIMESTAMP(6), '', ?, 0, '{}'
         FROM seq_0_to_${count - 1}`,
        [prefix, queue, db.naiveTimes.fromEpochMs(lastRunAt.getTime()), id],
      );
      await db.execute('ANALYZE TABLE django_celery_beat_periodictask');
    },
    insertDue: async (taskName, queue, id) => {
      await db.execute(
        `INSERT INTO django_celery_beat_periodictask (name, task, args, kwargs, queue, enabled, last_run_at, total_run_count,
           date_changed, description, interval_id, one_off, headers)
         VALUES (?, 'bench.tasks.noop', '[0]', '{}', ?, 1, UTC_TIMESTAMP(6) - INTERVAL 2 HOUR, 0, UTC_TIMESTAMP(6), '', ?, 0, '{}')`,
        [taskName, queue, id],
      );
    },
    questions: async () => {
      const [row] = await admin.query<{ Value: string }>("SHOW GLOBAL STATUS LIKE 'Questions'");
      return Number(row?.Value ?? 0);
    },
    drop,
  };
}

const open = (dialect: Dialect) => (dialect === 'postgres' ? postgresBench() : mariadbBench());

function startBeat(url: string): MeasuredProcess {
  return startMeasuredProcess(
    process.execPath,
    [BIN, 'beat', '--database-url', url, '-b', BROKER, '-l', 'INFO', '--no-migrate'],
    { cwd: ROOT, label: 'dbbeat beat' },
  );
}

/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

async function burst(dialect: Dialect, count: number): Promise<number | null> {
  const db = await open(dialect);
  const redis = connectRedis(DBBEAT_REDIS_DB);
  const queue = `bench_dialect_burst_${randomBytes(4).toString('hex')}`;
  const dropQueue = queueCleanup(DBBEAT_REDIS_DB, queue, { dedupeMarkers: true });
  try {
    await db.insertInterval(count, queue, 3600, new Date(Date.now() - 86_400_000));
    const beat = startBeat(db.url);
    try {
      const result = await waitForQueueLength(redis, queue, count, {
        timeoutMs: 600_000,
        pollMs: 10,
        stop: () => beat.exited(),
      });
      return result.at === null ? null : (result.at - beat.startedAt) / 1000;
    } finally {
      await beat.stop();
    }
  } finally {
    await dropQueue();
    redis.disconnect();
    await db.drop();
  }
}

interface Loaded {
  startupSeconds: number | null;
  pickupP50Ms: number | null;
  pickupP99Ms: number | null;
  pickupMissed: number;
  idleCpuPercent: number;
  idleQueriesPerSecond: number | null;
}

/** Startup, pickup and idle cost on one database holding `count` tasks, none due. */
async function loaded(dialect: Dialect, count: number, tries: number): Promise<Loaded> {
  const db = await open(dialect);
  const blocking = connectRedis(DBBEAT_REDIS_DB);
  const idle = `bench_dialect_idle_${randomBytes(4).toString('hex')}`;
  const dropIdle = queueCleanup(DBBEAT_REDIS_DB, idle);
  try {
    await db.insertInterval(count, idle, 86_400, new Date());
    const intervalId = await db.intervalId(3600);
    const beat = startBeat(db.url);
    try {
      const ready = await beat.waitForLine(/ready/i, 300_000);
      const startupSeconds = ready === null ? null : (ready - beat.startedAt) / 1000;
      // Idle: 10 s with nothing due and nothing changing.
      await sleep(2_000);
      const pid = beat.child.pid!;
      const cpuBefore = cpuSeconds(pid);
      const questionsBefore = await db.questions();
      await sleep(10_000);
      const cpuAfter = cpuSeconds(pid);
      const questionsAfter = await db.questions();
      const samples: number[] = [];
      let missed = 0;
      for (let attempt = 0; attempt <= tries; attempt++) {
        await sleep(50 + Math.random() * 200);
        const name = `pick_${attempt}_${randomBytes(3).toString('hex')}`;
        const queue = `bench_dialect_pick_${name}`;
        const dropQueue = queueCleanup(DBBEAT_REDIS_DB, queue, { dedupeMarkers: true });
        const started = performance.now();
        await db.insertDue(name, queue, intervalId);
        const reply = await blocking.brpop(queue, 10);
        const took = performance.now() - started;
        await dropQueue();
        if (attempt === 0) continue; // warm-up
        if (reply === null) missed++;
        else samples.push(took);
      }
      return {
        startupSeconds,
        pickupP50Ms: quantile(samples, 0.5),
        pickupP99Ms: quantile(samples, 0.99),
        pickupMissed: missed,
        idleCpuPercent: ((cpuAfter - cpuBefore) / 10) * 100,
        // Minus the two SHOW STATUS of the measurement itself.
        idleQueriesPerSecond:
          questionsBefore === null || questionsAfter === null ? null : (questionsAfter - questionsBefore - 1) / 10,
      };
    } finally {
      await beat.stop();
    }
  } finally {
    await dropIdle();
    blocking.disconnect();
    await db.drop();
  }
}

/** The dialects as the results name them (Figure.variant). */
export const DIALECT_NAMES: Record<Dialect, string> = { postgres: 'PostgreSQL', mariadb: 'MariaDB' };

/**
 * The `dialects` workload of `npm run bench`: per dialect (PostgreSQL first, then MariaDB),
 * a burst of each size in `burstSizes`, then startup, change pickup (`pickupTries` samples
 * after a warm-up) and the idle cost on a database holding `loadedSize` tasks. Figures have
 * workload `dialects`, subject `dbbeat` and the dialect's name as variant.
 */
export async function benchDialects(options: {
  burstSizes: number[];
  loadedSize: number;
  pickupTries: number;
  log: (line: string) => void;
}): Promise<Figure[]> {
  const figures: Figure[] = [];
  const figure = (
    dialect: Dialect,
    size: number,
    metric: string,
    value: number | null,
    unit: string,
    runs = 1,
  ): Figure => ({
    workload: 'dialects',
    subject: 'dbbeat',
    size,
    metric,
    value: value === null ? null : round(value),
    unit,
    runs,
    variant: DIALECT_NAMES[dialect],
  });
  for (const dialect of ['postgres', 'mariadb'] as const) {
    for (const size of options.burstSizes) {
      options.log(`dialects: ${DIALECT_NAMES[dialect]} burst ${size}…`);
      figures.push(figure(dialect, size, 'burst_seconds', await burst(dialect, size), 's'));
    }
    options.log(`dialects: ${DIALECT_NAMES[dialect]} startup, pickup and idle among ${options.loadedSize}…`);
    const l = await loaded(dialect, options.loadedSize, options.pickupTries);
    figures.push(
      figure(dialect, options.loadedSize, 'startup_seconds', l.startupSeconds, 's'),
      figure(dialect, options.loadedSize, 'pickup_p50_ms', l.pickupP50Ms, 'ms', options.pickupTries - l.pickupMissed),
      figure(dialect, options.loadedSize, 'pickup_p99_ms', l.pickupP99Ms, 'ms', options.pickupTries - l.pickupMissed),
      figure(dialect, options.loadedSize, 'idle_cpu_percent', l.idleCpuPercent, '% of a core'),
    );
    if (l.idleQueriesPerSecond !== null)
      figures.push(figure(dialect, options.loadedSize, 'idle_queries_per_second', l.idleQueriesPerSecond, 'queries/s'));
  }
  return figures;
}

async function main(): Promise<void> {
  const results: Record<Dialect, Record<string, number | null>> = { postgres: {}, mariadb: {} };
  if (process.argv.includes('--burst-only')) {
    // Repeated short bursts, alternating the dialects, to see through a busy machine's noise.
    for (let round = 0; round < 3; round++) {
      for (const dialect of ['postgres', 'mariadb'] as const) {
        process.stderr.write(`${dialect}: burst 10k ${await burst(dialect, 10_000)} s\n`);
      }
    }
    return;
  }
  for (const dialect of ['postgres', 'mariadb'] as const) {
    const r = results[dialect];
    r.burst10kSeconds = await burst(dialect, 10_000);
    process.stderr.write(`${dialect}: burst 10k ${r.burst10kSeconds} s\n`);
    r[`burst${BIG / 1000}kSeconds`] = await burst(dialect, BIG);
    process.stderr.write(`${dialect}: burst ${BIG / 1000}k ${r[`burst${BIG / 1000}kSeconds`]} s\n`);
    const l = await loaded(dialect, BIG, 20);
    Object.assign(r, {
      [`startup${BIG / 1000}kSeconds`]: l.startupSeconds,
      pickupP50Ms: l.pickupP50Ms,
      pickupP99Ms: l.pickupP99Ms,
      pickupMissed: l.pickupMissed,
      idleCpuPercent: l.idleCpuPercent,
      idleQueriesPerSecond: l.idleQueriesPerSecond,
    });
    process.stderr.write(`${dialect}: ${JSON.stringify(l)}\n`);
  }
  console.log(
    JSON.stringify({ tasks: BIG, results }, (_key, value: unknown) =>
      typeof value === 'number' ? round(value) : value,
    ),
  );
  console.log('\n| figure | PostgreSQL | MariaDB | ratio |\n|---|---|---|---|');
  for (const key of Object.keys(results.postgres)) {
    const pg = results.postgres[key];
    const my = results.mariadb[key];
    const ratio = typeof pg === 'number' && typeof my === 'number' && pg > 0 ? `${round(my / pg)}×` : '—';
    console.log(
      `| ${key} | ${pg === null || pg === undefined ? '—' : round(pg)} | ${my === null || my === undefined ? '—' : round(my)} | ${ratio} |`,
    );
  }
  process.exit(0);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
}
