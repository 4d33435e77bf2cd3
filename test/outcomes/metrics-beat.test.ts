// Issue 16 item 4: a real `dbbeat beat --http` process on a real PostgreSQL database and
// a private Redis (behind a TCP proxy the test can cut). Its /metrics, read with a real
// Prometheus text-format parser, must agree with the dbbeat_run rows and with the
// messages in Redis; /readyz goes 503 naming the broker while Redis is cut off and back
// to 200 after; a second beat stands by and is ready too.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Redis } from 'ioredis';
import pg from 'pg';

import { type BeatProcess, killAllBeats, spawnBeat } from '../support/beat-process.js';
import { createMigratedDatabase, type TempDatabase } from '../support/postgres.js';
import { freePort, PrivateRedis } from '../support/private-redis.js';
import { histogramOf, parseMetrics, type ParsedFamily, sampleValue, sumOf } from '../support/prometheus.js';
import { insertTask, type TaskRowInput } from '../support/rows.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const WAIT_MS = 30_000;
const HOURLY = { interval: { every: 1, period: 'hours' } } as const;

/** An hourly task last run two hours ago: due at once, then not for an hour. */
function hourly(name: string, more: Partial<TaskRowInput> = {}): TaskRowInput {
  return { name, schedule: HOURLY, lastRunAt: new Date(Date.now() - 2 * 3600_000), ...more };
}

let temp: TempDatabase;
let pool: pg.Pool;
let redis: PrivateRedis;
let redisClient: Redis;
let proxy: TcpProxy;
let leader: BeatProcess;
let leaderUrl: string;

/** Polls `probe` every 100 ms until it returns a value other than undefined. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last error: ${String(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function scrape(url: string): Promise<Map<string, ParsedFamily>> {
  const response = await fetch(`${url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4; charset=utf-8/);
  return parseMetrics(await response.text());
}

async function readyz(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Runs sent, by queue (SENT, or FAILURE once the test marked one failed). */
async function sentRowsByQueue(): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ queue: string; n: number }>(
    "SELECT queue, count(*)::int AS n FROM dbbeat_run WHERE state IN ('SENT', 'FAILURE') GROUP BY queue",
  );
  return new Map(rows.map((row) => [row.queue, row.n]));
}

function startBeat(port: number, label: string): BeatProcess {
  return spawnBeat({
    databaseUrl: temp.url,
    brokerUrl: proxy.rewrite(redis.url()),
    leaseSeconds: 3,
    label,
    extraArgs: ['--http', `127.0.0.1:${port}`, '--failing-after', '1'],
  });
}

before(async () => {
  redis = await PrivateRedis.start();
  redisClient = new Redis(redis.url());
  proxy = await TcpProxy.start('127.0.0.1', redis.port);
  temp = await createMigratedDatabase('dbbeat_metrics');
  pool = new pg.Pool({ connectionString: temp.url, max: 2 });
  for (const name of ['a', 'b', 'c']) await insertTask(pool, hourly(`default ${name}`));
  for (const name of ['a', 'b']) await insertTask(pool, hourly(`reports ${name}`, { queue: 'reports' }));
  await insertTask(pool, hourly('broken args', { args: 'not json' }));
  const port = await freePort();
  leaderUrl = `http://127.0.0.1:${port}`;
  leader = startBeat(port, 'leader');
});

after(async () => {
  await leader?.stop();
  await killAllBeats();
  await proxy?.cut();
  redisClient?.disconnect();
  await pool?.end();
  await temp?.drop();
  await redis?.remove();
});

test('/healthz answers, /readyz is 200 once the beat leads', async () => {
  const health = await until('healthz', async () => (await fetch(`${leaderUrl}/healthz`)).status === 200 || undefined);
  assert.equal(health, true);
  const ready = await until('ready', async () => {
    const answer = await readyz(leaderUrl);
    return answer.status === 200 ? answer : undefined;
  });
  assert.equal(ready.body.role, 'leader');
  assert.deepEqual(ready.body.failed, []);
});

test('the counters agree with dbbeat_run and with the messages in Redis', async () => {
  await until('five runs recorded', async () => {
    const byQueue = await sentRowsByQueue();
    return byQueue.get('celery') === 3 && byQueue.get('reports') === 2 ? true : undefined;
  });
  // Lease renewals every second (a third of --lease-seconds 3).
  const families = await until('a renewal counted', async () => {
    const scraped = await scrape(leaderUrl);
    return (sampleValue(scraped, 'dbbeat_lease_renewals_total', { result: 'ok' }) ?? 0) >= 1 ? scraped : undefined;
  });
  assert.equal(sampleValue(families, 'dbbeat_runs_sent_total', { queue: 'celery' }), 3);
  assert.equal(sampleValue(families, 'dbbeat_runs_sent_total', { queue: 'reports' }), 2);
  assert.equal(await redisClient.llen('celery'), 3);
  assert.equal(await redisClient.llen('reports'), 2);
  assert.equal(histogramOf(families, 'dbbeat_run_lateness_seconds')?.count, 5);
  assert.equal(sampleValue(families, 'dbbeat_runs_duplicate_total'), 0);
  assert.equal(sampleValue(families, 'dbbeat_send_failures_total', { kind: 'message' }), 0);
  assert.equal(sampleValue(families, 'dbbeat_send_failures_total', { kind: 'batch' }), 0);
  assert.equal(sampleValue(families, 'dbbeat_lease_renewals_total', { result: 'failed' }), 0);
  assert.equal(sampleValue(families, 'dbbeat_leader'), 1);
  assert.equal(sampleValue(families, 'dbbeat_tasks_loaded'), 5);
  assert.equal(sampleValue(families, 'dbbeat_tasks_invalid'), 1);
  assert.equal(sampleValue(families, 'dbbeat_broker_up'), 1);
  assert.equal(sampleValue(families, 'dbbeat_database_up'), 1);
  assert.ok(families.has('process_resident_memory_bytes'));
});

test('a task whose last run failed is counted in dbbeat_tasks_failing', async () => {
  assert.equal(sampleValue(await scrape(leaderUrl), 'dbbeat_tasks_failing'), 0);
  // As an outcome source writes it (--failing-after 1: one failed run makes a task failing).
  await pool.query(
    "UPDATE dbbeat_run SET state = 'FAILURE', finished_at = now() WHERE periodic_task_name = 'default a'",
  );
  await until('the failing task counted', async () => {
    const failing = sampleValue(await scrape(leaderUrl), 'dbbeat_tasks_failing');
    return failing === 1 ? true : undefined;
  });
});

test('a change is picked up and measured; the new run is counted', async () => {
  await insertTask(pool, hourly('reports c', { queue: 'reports' }));
  await until('the new run recorded', async () => ((await sentRowsByQueue()).get('reports') === 3 ? true : undefined));
  const families = await until('the run counted', async () => {
    const scraped = await scrape(leaderUrl);
    return sampleValue(scraped, 'dbbeat_runs_sent_total', { queue: 'reports' }) === 3 ? scraped : undefined;
  });
  assert.equal(await redisClient.llen('reports'), 3);
  const pickup = histogramOf(families, 'dbbeat_change_pickup_seconds');
  assert.ok(pickup !== undefined && pickup.count >= 1, 'a pickup was observed');
  // LISTEN/NOTIFY wakes the beat at once; polling (--max-interval 1) within a second or so.
  assert.ok(pickup.sum / pickup.count < 5, `pickup took ${pickup.sum / pickup.count} s on average`);
  assert.equal(sampleValue(families, 'dbbeat_tasks_loaded'), 6);
});

test('/readyz is 503 naming the broker while Redis is unreachable, and 200 again after', async () => {
  await proxy.cut();
  try {
    const down = await until('readyz 503', async () => {
      const answer = await readyz(leaderUrl);
      return answer.status === 503 ? answer : undefined;
    });
    assert.deepEqual(down.body.failed, ['broker']);
    const checks = down.body.checks as Record<string, { ok: boolean; detail: string }>;
    assert.equal(checks.database?.ok, true);
    assert.equal(checks.lease?.ok, true);
    assert.equal(sampleValue(await scrape(leaderUrl), 'dbbeat_broker_up'), 0);
    // A run due while the broker is away fails with its batch, and is counted.
    await insertTask(pool, hourly('during the outage'));
    await until('a failed batch counted', async () => {
      const failed = sampleValue(await scrape(leaderUrl), 'dbbeat_send_failures_total', { kind: 'batch' }) ?? 0;
      return failed >= 1 ? true : undefined;
    });
  } finally {
    await proxy.restore();
  }
  const up = await until('readyz 200', async () => {
    const answer = await readyz(leaderUrl);
    return answer.status === 200 ? answer : undefined;
  });
  assert.deepEqual(up.body.failed, []);
  // The run that failed goes out once the broker is back, and every counter still agrees.
  await until('the delayed run recorded', async () =>
    (await sentRowsByQueue()).get('celery') === 4 ? true : undefined,
  );
  const families = await until('the delayed run counted', async () => {
    const scraped = await scrape(leaderUrl);
    return sumOf(scraped, 'dbbeat_runs_sent_total') === 7 ? scraped : undefined;
  });
  assert.equal(sampleValue(families, 'dbbeat_runs_sent_total', { queue: 'celery' }), 4);
  assert.equal(await redisClient.llen('celery'), 4);
  assert.equal(sampleValue(families, 'dbbeat_broker_up'), 1);
  assert.equal(histogramOf(families, 'dbbeat_run_lateness_seconds')?.count, 7);
});

test('a second beat stands by behind the live lease and is ready; it counts nothing', async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const standby = startBeat(port, 'standby');
  try {
    const ready = await until('standby ready', async () => {
      const answer = await readyz(url);
      return answer.status === 200 ? answer : undefined;
    });
    assert.equal(ready.body.role, 'standby');
    const families = await scrape(url);
    assert.equal(sampleValue(families, 'dbbeat_leader'), 0);
    assert.equal(sampleValue(families, 'dbbeat_tasks_loaded'), 0);
    assert.equal(sumOf(families, 'dbbeat_runs_sent_total'), 0);
    assert.equal(sampleValue(families, 'dbbeat_lease_renewals_total', { result: 'ok' }), 0);
  } finally {
    await standby.stop();
  }
});
