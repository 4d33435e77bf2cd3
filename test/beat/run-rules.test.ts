// The rules of docs/DESIGN.md §5 that the beat applies around the schedule itself:
// start_time, expires, the starting deadline and one_off; plus its log file and pid file.
// Messages are read straight from Redis (no worker): what the broker holds is the truth.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Redis } from 'ioredis';
import pg from 'pg';

import { type BeatProcess, spawnBeat } from '../support/beat-process.js';
import { createMigratedDatabase, type TempDatabase } from '../support/postgres.js';
import { PrivateRedis } from '../support/private-redis.js';
import { insertTask } from '../support/rows.js';

const redisServer = await PrivateRedis.start(); // this file's own
after(() => redisServer.remove());
const REDIS_URL = redisServer.url();

interface Envelope {
  headers: { id: string; periodic_task_name: string; dbbeat_scheduled_at: string; expires: string | null };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('beat run rules', () => {
  let temp: TempDatabase;
  let pool: pg.Pool;
  let redis: Redis;
  let beat: BeatProcess;
  const queue = `rules_${randomBytes(4).toString('hex')}`;

  async function messages(name: string): Promise<Envelope[]> {
    const raw = await redis.lrange(queue, 0, -1);
    return raw.map((text) => JSON.parse(text) as Envelope).filter((m) => m.headers.periodic_task_name === name);
  }

  async function row(name: string) {
    const { rows } = await pool.query<{ enabled: boolean; total_run_count: number; last_run_at: Date | null }>(
      'SELECT enabled, total_run_count, last_run_at FROM django_celery_beat_periodictask WHERE name = $1',
      [name],
    );
    return rows[0]!;
  }

  before(async () => {
    temp = await createMigratedDatabase();
    pool = new pg.Pool({ connectionString: temp.url, max: 2 });
    redis = new Redis(REDIS_URL);
    beat = spawnBeat({
      databaseUrl: temp.url,
      brokerUrl: REDIS_URL,
      maxInterval: 1,
      extraArgs: ['--starting-deadline', '30'],
    });
    await beat.waitForLine((line) => line.msg.startsWith('beat ready'), 30_000);
  });

  after(async () => {
    await beat?.stop();
    await redis?.del(queue, `_kombu.binding.${queue}`);
    redis?.disconnect();
    await pool?.end();
    await temp?.drop();
  });

  test('nothing is sent before start_time; the first run is the first slot at or after it', async () => {
    const startTime = new Date(Math.ceil((Date.now() + 2500) / 1000) * 1000 + 300);
    await insertTask(pool, {
      name: 'starts-later',
      schedule: { interval: { every: 1, period: 'seconds' } },
      queue,
      dateChanged: new Date(Date.now() - 60_000),
      startTime,
    });
    await sleep(startTime.getTime() - Date.now() - 300);
    assert.equal((await messages('starts-later')).length, 0, 'sent before start_time');
    await beat.waitForLine((line) => line.task === 'starts-later', 10_000);
    const first = (await messages('starts-later')).map((m) => Date.parse(m.headers.dbbeat_scheduled_at)).sort()[0]!;
    assert.ok(
      first >= startTime.getTime(),
      `first slot ${new Date(first).toISOString()} before ${startTime.toISOString()}`,
    );
    assert.ok(first < startTime.getTime() + 1000);
    await pool.query(`UPDATE django_celery_beat_periodictask SET enabled = false WHERE name = 'starts-later'`);
  });

  test('a task whose expires passed is disabled; its messages carry expires', async () => {
    const expires = new Date(Date.now() + 2500);
    await insertTask(pool, {
      name: 'expires-soon',
      schedule: { interval: { every: 1, period: 'seconds' } },
      queue,
      expires,
    });
    await beat.waitForLine((line) => line.task === 'expires-soon', 10_000);
    const sent = await messages('expires-soon');
    assert.ok(sent.length >= 1);
    assert.equal(Date.parse(sent[0]!.headers.expires!), expires.getTime());
    await beat.waitForLine((line) => /disabled 1 expired task/.test(line.msg), 10_000);
    assert.equal((await row('expires-soon')).enabled, false);
    const count = (await messages('expires-soon')).length;
    await sleep(1500);
    assert.equal((await messages('expires-soon')).length, count, 'sent after it expired');
  });

  test('expire_seconds becomes an absolute expires counted from the send', async () => {
    await insertTask(pool, {
      name: 'expire-seconds',
      schedule: { interval: { every: 1, period: 'hours' } },
      queue,
      expireSeconds: 90,
      lastRunAt: new Date(Date.now() - 3600_000 + 1500),
    });
    const line = await beat.waitForLine((l) => l.task === 'expire-seconds', 20_000);
    const [message] = await messages('expire-seconds');
    const expiresIn = Date.parse(message!.headers.expires!) - Date.parse(String(line.sent));
    assert.ok(Math.abs(expiresIn - 90_000) < 1000, `expires ${expiresIn} ms after the send`);
  });

  test('a run later than the starting deadline is skipped and recorded, not sent', async () => {
    await insertTask(pool, {
      name: 'too-late',
      schedule: { interval: { every: 1, period: 'hours' } },
      queue,
      lastRunAt: new Date(Date.now() - 2 * 3600_000),
    });
    await beat.waitForLine((line) => line.task === 'too-late' && /starting deadline/.test(line.msg), 10_000);
    // The skip is recorded right after the batch it was part of.
    const deadline = Date.now() + 5000;
    let after = await row('too-late');
    while (after.last_run_at!.getTime() < Date.now() - 60_000 && Date.now() < deadline) {
      await sleep(100);
      after = await row('too-late');
    }
    assert.ok(after.last_run_at!.getTime() > Date.now() - 60_000, 'last_run_at moved on');
    assert.equal(after.total_run_count, 0);
    assert.equal((await messages('too-late')).length, 0);
  });

  test('a clocked task saved after its time runs at once, once, and is disabled', async () => {
    // 20 s ago: late, but inside this beat's --starting-deadline of 30 s.
    const clockedTime = new Date(Date.now() - 20_000);
    const savedAt = Date.now();
    await insertTask(pool, {
      name: 'clocked-late',
      schedule: { clocked: { clocked_time: clockedTime } },
      queue,
      oneOff: true,
    });
    const sent = await beat.waitForLine((line) => line.task === 'clocked-late', 10_000);
    assert.match(sent.msg, /^sent/);
    assert.ok(Date.parse(sent.time) - savedAt < 3000, `sent ${Date.parse(sent.time) - savedAt} ms after it was saved`);
    assert.equal(sent.scheduled, clockedTime.toISOString(), 'the run is for its clocked time');
    await sleep(1500);
    assert.equal((await messages('clocked-late')).length, 1);
    const after = await row('clocked-late');
    assert.equal(after.enabled, false);
    assert.equal(after.total_run_count, 1);
  });

  test('a one-off interval task runs once and is disabled', async () => {
    await insertTask(pool, {
      name: 'once',
      schedule: { interval: { every: 1, period: 'seconds' } },
      queue,
      oneOff: true,
    });
    await beat.waitForLine((line) => line.task === 'once', 10_000);
    await sleep(2500);
    assert.equal((await messages('once')).length, 1);
    const after = await row('once');
    assert.equal(after.enabled, false);
    assert.equal(after.total_run_count, 1);
  });
});

describe('beat log file and pid file', () => {
  test('-f writes the log to a file, --pidfile holds the pid while running, -l filters', async () => {
    const temp = await createMigratedDatabase();
    const base = join(tmpdir(), `dbbeat-${randomBytes(4).toString('hex')}`);
    const logFile = `${base}.log`;
    const pidFile = `${base}.pid`;
    const rows = new pg.Pool({ connectionString: temp.url, max: 1 });
    // A bad row: the beat reports it at ERROR, so the file has a line that WARNING lets through.
    await insertTask(rows, {
      name: 'bad-args-for-the-log',
      schedule: { interval: { every: 1, period: 'hours' } },
      args: 'not json',
    });
    await rows.end();
    const beat = spawnBeat({
      databaseUrl: temp.url,
      brokerUrl: REDIS_URL,
      extraArgs: ['-f', logFile, '--pidfile', pidFile, '-l', 'WARNING'],
    });
    try {
      const deadline = Date.now() + 30_000;
      const reported = () => existsSync(logFile) && readFileSync(logFile, 'utf8').includes('bad-args-for-the-log');
      while (!(existsSync(pidFile) && reported()) && Date.now() < deadline) await sleep(100);
      assert.equal(readFileSync(pidFile, 'utf8').trim(), String(beat.pid));
      // A second beat with the same pid file refuses to start: a setting that cannot work while
      // the first runs, so exit 2 (README, "Exit codes").
      const second = spawnBeat({ databaseUrl: temp.url, brokerUrl: REDIS_URL, extraArgs: ['--pidfile', pidFile] });
      const exit = await second.exited;
      assert.equal(exit.code, 2);
      assert.match(second.otherOutput.join('\n'), /is still running/);
      const stopped = await beat.stop();
      assert.equal(stopped.code, 0);
      assert.equal(existsSync(pidFile), false, 'pid file removed');
      assert.equal(beat.lines.length, 0, 'nothing on stdout with -f');
      // The bad row's ERROR line is in the file; the INFO lines (became leader, beat ready) are not.
      const logged = readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as { level: number; msg: string; task?: string });
      const report = logged.find((line) => line.task === 'bad-args-for-the-log');
      assert.ok(report, `the bad row is reported in the log file: ${JSON.stringify(logged)}`);
      assert.equal(report.level, 50);
      assert.match(report.msg, /args: "not json" is not JSON \(Expecting value at char 0\)/);
      assert.deepEqual(
        logged.filter((line) => line.level < 40),
        [],
        'nothing below WARNING',
      );
    } finally {
      await beat.kill();
      await rm(logFile, { force: true });
      await rm(pidFile, { force: true });
      await temp.drop();
    }
  });
});
