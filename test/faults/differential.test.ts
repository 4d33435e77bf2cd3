// The differential test: the same rows, run for about three minutes by the real
// django-celery-beat 2.4 (`celery beat -S django_celery_beat.schedulers:DatabaseScheduler`)
// and by dbbeat, each on its own database copy and its own Redis database. Both must send
// the same (task, minute, args, kwargs, queue) set, apart from the differences that the
// README documents (listed in DOCUMENTED below, each with its reason); for the runs they
// share, argsrepr/kwargsrepr must be the same text.
//
// Not among the rows, because they stall the reference itself (Celery 5.2's beat only looks
// at the top of its heap, and django-celery-beat 2.4 leaves a disabled entry there, so it
// sends nothing more until the next schedule change): a row whose args are not JSON, and a
// one-off task whose run is not the last of the window. dbbeat skips only such a row
// (test/beat/end-to-end.test.ts).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Redis } from 'ioredis';
import pg from 'pg';

import { dumpPyJson, parsePyJson, type PyValue } from '../../src/broker/pyjson.js';
import { killOnExit, registerProcessGroup } from '../support/cleanup.js';
import { createTempDatabase, type TempDatabase } from '../support/postgres.js';
import { PrivateRedis } from '../support/private-redis.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const dbbeatBin = fileURLToPath(new URL('../../bin/dbbeat.js', import.meta.url));
const djangoDir = fileURLToPath(new URL('../django/', import.meta.url));
const appDir = fileURLToPath(new URL('../support/django-beat/', import.meta.url));

const MINUTE = 60_000;
/** Beats start this long after the base minute M0, and stop this long after it. */
const START_AT = 10_000;
const STOP_AT = 3 * MINUTE + 5_000;
/**
 * Minutes compared: 0, 1 and 2. django-celery-beat measures an interval from the moment it
 * sent (its runs drift later by the send delay, seconds over three minutes), dbbeat from the
 * slot: near the end of the window that drift would push its runs past the stop.
 */
const MINUTES = 3;
const TASK_ROUTES = JSON.stringify({
  'diff.routed.*': 'diff_routed_q',
  'diff.routed-by-key': { routing_key: 'ignored_key' },
});

type Schedule =
  | { interval: [number, string] }
  | { crontab: [string, string, string, string, string, string] }
  | { solar: [string, number, number] }
  | { clocked: Date };

interface Row {
  name: string;
  schedule: Schedule;
  args?: string;
  kwargs?: string;
  headers?: string;
  queue?: string;
  exchange?: string;
  routingKey?: string;
  priority?: number;
  expires?: Date;
  expireSeconds?: number;
  oneOff?: boolean;
  startTime?: Date;
  enabled?: boolean;
  lastRunAt?: Date;
  dateChanged: Date;
  /** Task name; `diff.<name>` when not given. */
  task?: string;
}

/**
 * Rows whose runs differ on purpose (README, "Differences from django-celery-beat").
 * Their runs are left out of the comparison; each is still sent by dbbeat as the README says.
 */
const DOCUMENTED: Record<string, string> = {
  'interval-start-60':
    'an interval task with start_time runs at start_time; django-celery-beat 2.4 one interval after beat loaded it',
  'interval-never-run':
    "a never-run interval task's first run is date_changed + every; django-celery-beat 2.4 counts from when beat loaded it",
  'cron-start-later':
    'with start_time, crontab runs at its first slot at or after start_time; django-celery-beat 2.4 sends the slot missed before start_time at start_time',
  expired:
    'a task whose expires has passed is disabled; django-celery-beat 2.4 keeps sending it (the worker then discards it)',
  'exchange-unbound':
    'publishing to an exchange nothing is bound to, dbbeat delivers to the queue Celery declares; Celery puts it in ae.undeliver',
};

export function rowsFor(m0: number): Row[] {
  const at = (offsetMs: number): Date => new Date(m0 + offsetMs);
  const longAgo = at(-30 * MINUTE);
  const now = new Date(m0);
  const utc = new Date(m0);
  const hourUtc = String(utc.getUTCHours());
  const hourShanghai = String((utc.getUTCHours() + 8) % 24);
  const dom = String(utc.getUTCDate());
  const otherDow = String((utc.getUTCDay() + 3) % 7);
  const every20 = { interval: [20, 'seconds'] } as Schedule;
  return [
    { name: 'interval-20', schedule: every20, lastRunAt: at(5_000), dateChanged: longAgo, args: '[1, 2]' },
    { name: 'interval-start-30', schedule: { interval: [30, 'seconds'] }, startTime: at(50_000), dateChanged: longAgo },
    { name: 'interval-start-60', schedule: { interval: [60, 'seconds'] }, startTime: at(50_000), dateChanged: longAgo },
    { name: 'interval-never-run', schedule: { interval: [40, 'seconds'] }, dateChanged: at(-15_000) },
    {
      name: 'cron-every-minute',
      schedule: { crontab: ['*', '*', '*', '*', '*', 'UTC'] },
      lastRunAt: at(-2 * MINUTE),
      dateChanged: longAgo,
    },
    {
      name: 'cron-hourly-catchup',
      schedule: { crontab: ['0', '*', '*', '*', '*', 'UTC'] },
      lastRunAt: at(-120 * MINUTE),
      dateChanged: longAgo,
    },
    {
      name: 'cron-every-2',
      schedule: { crontab: ['*/2', '*', '*', '*', '*', 'UTC'] },
      lastRunAt: at(-5_000),
      dateChanged: longAgo,
    },
    {
      name: 'cron-shanghai-now',
      schedule: { crontab: ['*', hourShanghai, '*', '*', '*', 'Asia/Shanghai'] },
      lastRunAt: at(-5_000),
      dateChanged: longAgo,
    },
    {
      name: 'cron-shanghai-never',
      schedule: { crontab: ['*', hourUtc, '*', '*', '*', 'Asia/Shanghai'] },
      lastRunAt: at(-5_000),
      dateChanged: longAgo,
    },
    {
      name: 'cron-dom-and-dow',
      schedule: { crontab: ['*', '*', otherDow, dom, '*', 'UTC'] },
      lastRunAt: at(-5_000),
      dateChanged: longAgo,
    },
    {
      name: 'cron-start-later',
      schedule: { crontab: ['*', '*', '*', '*', '*', 'UTC'] },
      startTime: at(100_000),
      lastRunAt: at(-5_000),
      dateChanged: longAgo,
    },
    // Runs once, at +2 min; its next look comes an hour later (django-celery-beat 2.4 on Celery 5.2
    // would leave the disabled entry at the top of its heap and send nothing more until the next
    // schedule change).
    {
      name: 'cron-one-off',
      schedule: { crontab: [String(new Date(m0 + 2 * MINUTE).getUTCMinutes()), '*', '*', '*', '*', 'UTC'] },
      oneOff: true,
      lastRunAt: at(-5_000),
      dateChanged: longAgo,
    },
    { name: 'clocked-in-window', schedule: { clocked: at(75_000) }, oneOff: true, dateChanged: longAgo },
    { name: 'clocked-past', schedule: { clocked: at(-60 * MINUTE) }, oneOff: true, dateChanged: longAgo },
    {
      name: 'solar-catchup',
      schedule: { solar: ['sunrise', 48.8566, 2.3522] },
      lastRunAt: at(-3 * 24 * 60 * MINUTE),
      dateChanged: longAgo,
    },
    { name: 'expired', schedule: every20, expires: at(-MINUTE), lastRunAt: at(5_000), dateChanged: longAgo },
    { name: 'expires-later', schedule: every20, expires: at(60 * MINUTE), lastRunAt: at(5_000), dateChanged: longAgo },
    { name: 'expire-seconds', schedule: every20, expireSeconds: 30, lastRunAt: at(5_000), dateChanged: longAgo },
    { name: 'disabled', schedule: every20, enabled: false, lastRunAt: at(5_000), dateChanged: longAgo },
    { name: 'queue', schedule: every20, queue: 'diff_q', lastRunAt: at(5_000), dateChanged: longAgo },
    {
      name: 'routing-key-only',
      schedule: every20,
      routingKey: 'nobody_reads_this',
      lastRunAt: at(5_000),
      dateChanged: longAgo,
    },
    {
      name: 'exchange-unbound',
      schedule: every20,
      queue: 'diff_ex_q',
      exchange: 'diff_ex',
      routingKey: 'diff_rk',
      lastRunAt: at(5_000),
      dateChanged: longAgo,
    },
    { name: 'routed', task: 'diff.routed.report', schedule: every20, lastRunAt: at(5_000), dateChanged: longAgo },
    {
      name: 'routed-by-key',
      task: 'diff.routed-by-key',
      schedule: every20,
      lastRunAt: at(5_000),
      dateChanged: longAgo,
    },
    {
      name: 'routed-but-own-queue',
      task: 'diff.routed.own',
      schedule: every20,
      queue: 'diff_own_q',
      lastRunAt: at(5_000),
      dateChanged: longAgo,
    },
    { name: 'priority', schedule: every20, priority: 5, lastRunAt: at(5_000), dateChanged: longAgo },
    {
      name: 'odd-payloads',
      schedule: every20,
      args: '[9007199254740993, 1.0, 1e16, -0.0, NaN, Infinity, -Infinity, "\\u00e9", {"b": 1, "2": 2.0, "b": 3}]',
      kwargs: '{"big": 18446744073709551617, "ratio": 2.50, "deep": [[[[1]]]], "s": "it\'s"}',
      headers: '{"x_tenant": "acme", "x_ratio": 1.0}',
      lastRunAt: at(5_000),
      dateChanged: longAgo,
    },
  ].map((row) => ({ ...row, dateChanged: row.dateChanged ?? now }) as Row);
}

export async function insertRows(url: string, rows: Row[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const row of rows) {
      const s = row.schedule;
      let column: string;
      let id: number;
      if ('interval' in s) {
        column = 'interval_id';
        id = (
          await client.query<{ id: number }>(
            'INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES ($1, $2) RETURNING id',
            s.interval,
          )
        ).rows[0]!.id;
      } else if ('crontab' in s) {
        column = 'crontab_id';
        id = (
          await client.query<{ id: number }>(
            'INSERT INTO django_celery_beat_crontabschedule (minute, hour, day_of_week, day_of_month, month_of_year, timezone) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
            s.crontab,
          )
        ).rows[0]!.id;
      } else if ('solar' in s) {
        column = 'solar_id';
        id = (
          await client.query<{ id: number }>(
            'INSERT INTO django_celery_beat_solarschedule (event, latitude, longitude) VALUES ($1, $2, $3) RETURNING id',
            s.solar,
          )
        ).rows[0]!.id;
      } else {
        column = 'clocked_id';
        id = (
          await client.query<{ id: number }>(
            'INSERT INTO django_celery_beat_clockedschedule (clocked_time) VALUES ($1) RETURNING id',
            [s.clocked],
          )
        ).rows[0]!.id;
      }
      await client.query(
        `INSERT INTO django_celery_beat_periodictask
           (name, task, args, kwargs, headers, queue, exchange, routing_key, priority, expires, expire_seconds,
            one_off, start_time, enabled, last_run_at, total_run_count, date_changed, description, ${column})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 0, $16, '', $17)`,
        [
          row.name,
          row.task ?? `diff.${row.name}`,
          row.args ?? '[]',
          row.kwargs ?? '{}',
          row.headers ?? '{}',
          row.queue ?? null,
          row.exchange ?? null,
          row.routingKey ?? null,
          row.priority ?? null,
          row.expires ?? null,
          row.expireSeconds ?? null,
          row.oneOff ?? false,
          row.startTime ?? null,
          row.enabled ?? true,
          row.lastRunAt ?? null,
          row.dateChanged,
          id,
        ],
      );
    }
  } finally {
    await client.end();
  }
}

/** One message as it sat in Redis, reduced to what is compared. */
interface Sent {
  task: string;
  minute: number;
  args: string;
  kwargs: string;
  list: string;
  argsrepr: string;
  kwargsrepr: string;
}

/** Pops every message from every list of one Redis database, noting when it was seen. */
/** A header or body field as text: a string as it is, anything else as Python JSON (None is 'null'). */
function textOf(value: PyValue | undefined): string {
  if (typeof value === 'string') return value;
  return value === undefined ? 'undefined' : dumpPyJson(value);
}

class Collector {
  readonly sent: Sent[] = [];
  constructor(
    private readonly redis: Redis,
    private readonly m0: number,
  ) {}

  async drain(): Promise<void> {
    const keys = await this.redis.keys('*');
    for (const key of keys) {
      if (key.startsWith('_kombu') || key.startsWith('dbbeat:') || (await this.redis.type(key)) !== 'list') continue;
      for (let item = await this.redis.rpop(key); item !== null; item = await this.redis.rpop(key)) {
        const seen = Date.now();
        // kombu's envelope is Python JSON: the headers may hold NaN.
        const envelope = parsePyJson(item);
        assert.ok(envelope && typeof envelope === 'object' && !Array.isArray(envelope) && 'get' in envelope);
        const headers = envelope.get('headers');
        assert.ok(headers && typeof headers === 'object' && 'get' in headers && !Array.isArray(headers));
        const body = parsePyJson(Buffer.from(textOf(envelope.get('body')), 'base64').toString('utf8'));
        assert.ok(Array.isArray(body) && body.length === 3, `body of ${item.slice(0, 200)}`);
        this.sent.push({
          task: textOf(headers.get('task')),
          minute: Math.floor((seen - this.m0) / MINUTE),
          args: dumpPyJson(body[0]!),
          kwargs: dumpPyJson(body[1]!),
          list: key,
          argsrepr: textOf(headers.get('argsrepr')),
          kwargsrepr: textOf(headers.get('kwargsrepr')),
        });
      }
    }
  }
}

function keyOf(sent: Sent): string {
  return `${sent.task} | minute ${sent.minute} | ${sent.args} | ${sent.kwargs} | ${JSON.stringify(sent.list)}`;
}

function spawnGroup(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  registerProcessGroup(child.pid);
  killOnExit(child, true);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  return { child, output: () => output };
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

const sleepUntil = (time: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, time - Date.now())));

describe('differential: django-celery-beat 2.4 and dbbeat send the same runs', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  test(
    'the same rows for three minutes: the same (task, minute, args, kwargs, queue) set, apart from the documented differences',
    { timeout: 8 * MINUTE },
    async () => {
      const redisServer = await PrivateRedis.start();
      cleanups.push(() => redisServer.remove());
      const databases: TempDatabase[] = [];
      for (const prefix of ['dbbeat_diff_django', 'dbbeat_diff_dbbeat']) {
        const temp = await createTempDatabase(prefix);
        cleanups.push(() => temp.drop());
        databases.push(temp);
      }
      const [djangoDb, dbbeatDb] = databases as [TempDatabase, TempDatabase];
      for (const db of databases) {
        await new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, [dbbeatBin, 'migrate', '--database-url', db.url], {
            cwd: repoRoot,
            stdio: 'ignore',
          });
          child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`dbbeat migrate exited ${code}`))));
        });
      }

      // The base minute: the next one that leaves time to set up.
      const m0 = Math.ceil((Date.now() + 20_000) / MINUTE) * MINUTE;
      const rows = rowsFor(m0);
      await insertRows(djangoDb.url, rows);
      await insertRows(dbbeatDb.url, rows);

      const djangoRedis = new Redis(redisServer.url(1));
      const dbbeatRedis = new Redis(redisServer.url(2));
      cleanups.push(() => {
        djangoRedis.disconnect();
        dbbeatRedis.disconnect();
        return Promise.resolve();
      });
      const collectors = { django: new Collector(djangoRedis, m0), dbbeat: new Collector(dbbeatRedis, m0) };

      await sleepUntil(m0 + START_AT);
      const common = { ...process.env, CELERY_TASK_ROUTES: TASK_ROUTES, CELERY_TIMEZONE: 'UTC' };
      const django = spawnGroup(
        '/usr/bin/python3',
        [
          '-m',
          'celery',
          '-A',
          'dcb_app',
          'beat',
          '-S',
          'django_celery_beat.schedulers:DatabaseScheduler',
          '-l',
          'info',
          '--max-interval',
          '1',
          '--pidfile',
          '',
        ],
        {
          ...common,
          PYTHONPATH: `${appDir}:${djangoDir}`,
          DBBEAT_DJANGO_DATABASE_URL: djangoDb.url,
          DBBEAT_DIFF_BROKER: redisServer.url(1),
        },
        appDir,
      );
      const dbbeat = spawnGroup(
        process.execPath,
        [
          dbbeatBin,
          'beat',
          '--database-url',
          dbbeatDb.url,
          '-b',
          redisServer.url(2),
          '--max-interval',
          '1',
          '--no-migrate',
          '-l',
          'INFO',
        ],
        common,
        repoRoot,
      );
      cleanups.push(() => stopGroup(django.child));
      cleanups.push(() => stopGroup(dbbeat.child));

      while (Date.now() < m0 + STOP_AT) {
        await Promise.all([collectors.django.drain(), collectors.dbbeat.drain()]);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await Promise.all([stopGroup(django.child), stopGroup(dbbeat.child)]);
      await Promise.all([collectors.django.drain(), collectors.dbbeat.drain()]);

      const documentedTasks = new Set(
        rows.filter((row) => row.name in DOCUMENTED).map((row) => row.task ?? `diff.${row.name}`),
      );
      const compared = (sent: Sent[]): Sent[] => sent.filter((s) => !documentedTasks.has(s.task) && s.minute < MINUTES);
      const djangoSet = new Map(compared(collectors.django.sent).map((s) => [keyOf(s), s]));
      const dbbeatSet = new Map(compared(collectors.dbbeat.sent).map((s) => [keyOf(s), s]));
      const onlyDjango = [...djangoSet.keys()].filter((key) => !dbbeatSet.has(key)).sort();
      const onlyDbbeat = [...dbbeatSet.keys()].filter((key) => !djangoSet.has(key)).sort();
      const report =
        `only django-celery-beat:\n  ${onlyDjango.join('\n  ')}\nonly dbbeat:\n  ${onlyDbbeat.join('\n  ')}\n` +
        `django-celery-beat log:\n${django.output().slice(-3000)}\ndbbeat log:\n${dbbeat.output().slice(-3000)}`;
      assert.ok(djangoSet.size >= 40, `django-celery-beat sent only ${djangoSet.size} runs:\n${report}`);
      assert.deepEqual({ onlyDjango, onlyDbbeat }, { onlyDjango: [], onlyDbbeat: [] }, report);

      // The same run carries the same argsrepr/kwargsrepr (Celery's saferepr).
      for (const [key, sent] of djangoSet) {
        const ours = dbbeatSet.get(key)!;
        assert.deepEqual([ours.argsrepr, ours.kwargsrepr], [sent.argsrepr, sent.kwargsrepr], key);
      }
      // Each documented difference: dbbeat still sends what the README says.
      const dbbeatTasks = new Set(collectors.dbbeat.sent.map((s) => s.task));
      for (const name of ['interval-start-60', 'interval-never-run', 'cron-start-later'])
        assert.ok(dbbeatTasks.has(`diff.${name}`), `dbbeat never sent ${name}`);
      assert.ok(!dbbeatTasks.has('diff.expired'), 'dbbeat sent an expired task');
      assert.ok(collectors.dbbeat.sent.some((s) => s.task === 'diff.exchange-unbound' && s.list === 'diff_ex_q'));
    },
  );
});
