// The beat on MariaDB/MySQL only, as a real `dbbeat beat` process with DATABASE_URL=mysql://…:
// a row inserted with raw SQL reaches Redis within a poll of the change log, a bulk UPDATE
// of 10,000 rows (10,000 trigger rows) is reloaded as one batch, and a clocked task that
// Django-with-USE_TZ=False saved at a local wall time runs at that wall time. What the
// dialects share (every schedule kind through a Celery worker, bad rows reported and
// skipped, edits, one-off, SIGTERM) runs on both in test/beat/end-to-end.test.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { Redis } from 'ioredis';

import { MysqlDatabase } from '../../src/db/mysql/connection.js';
import { migrate } from '../../src/db/migrate.js';
import { readRedisRuns } from '../faults/support.js';
import { type BeatProcess, spawnBeat } from '../support/beat-process.js';
import { createTempMysqlDatabase, type TempMysqlDatabase } from '../support/mysql.js';
import { insertMysqlTask } from '../support/mysql-rows.js';
import { PrivateRedis } from '../support/private-redis.js';
import { waitFor } from '../support/wait.js';

const redisServer = await PrivateRedis.start(); // this file's own
after(() => redisServer.remove());
const WAIT_MS = 30_000;

describe('beat on MariaDB (mysql:// URL)', () => {
  let temp: TempMysqlDatabase;
  let db: MysqlDatabase;
  let beat: BeatProcess;
  const redis = new Redis(redisServer.url());
  const queue = `mysql_beat_${randomBytes(4).toString('hex')}`;

  before(async () => {
    temp = await createTempMysqlDatabase('dbbeat_mysql_beat');
    db = new MysqlDatabase({ url: temp.url });
    await migrate(db);
    beat = spawnBeat({
      databaseUrl: temp.url,
      brokerUrl: redisServer.url(),
      maxInterval: 30,
      extraArgs: ['-l', 'DEBUG'],
    });
    await beat.waitForLine((line) => line.msg === 'became leader', WAIT_MS);
  });
  after(async () => {
    await beat?.stop();
    redis.disconnect();
    await db?.close();
    await temp?.drop();
  });

  test('a task inserted with raw SQL is picked up within a poll and sent to Redis', async () => {
    const insertedAt = Date.now();
    await insertMysqlTask(db, {
      name: 'raw-sql-task',
      schedule: { interval: { every: 1, period: 'seconds' } },
      args: '[1, 2.0, 12345678901234567890]',
      queue,
      dateChanged: new Date(insertedAt - 1000),
    });
    const runs = await waitFor('a run in Redis', async () => {
      const found = await readRedisRuns(redis, queue);
      return found.length > 0 ? found : undefined;
    });
    assert.equal(runs[0]?.name, 'raw-sql-task');
    // max-interval is 30 s: only the change-log poll can have brought it this fast.
    assert.ok(Date.now() - insertedAt < 5_000, `sent ${Date.now() - insertedAt} ms after the insert`);
    const [envelope] = await redis.lrange(queue, -1, -1);
    // The row's JSON reaches the worker as stored (no round trip through JavaScript numbers).
    const body = Buffer.from((JSON.parse(envelope!) as { body: string }).body, 'base64').toString();
    assert.ok(body.startsWith('[[1, 2.0, 12345678901234567890]'), body);
  });

  test('a bulk UPDATE of 10,000 rows is reloaded as one batch', async () => {
    await db.execute(
      "INSERT INTO django_celery_beat_crontabschedule (minute, hour, day_of_week, day_of_month, month_of_year, timezone) VALUES ('0', '4', '*', '*', '*', 'UTC')",
    );
    const [{ id: crontabId }] = (await db.query<{ id: number }>(
      'SELECT MAX(id) AS id FROM django_celery_beat_crontabschedule',
    )) as [{ id: number }];
    const rows = Array.from(
      { length: 10_000 },
      (_, i) => `('bulk-${i}', 'dbbeat_test.record', '[]', '{}', '{}', ${crontabId}, 0, 0, 0, UTC_TIMESTAMP(6), '')`,
    );
    await db.execute(
      `INSERT INTO django_celery_beat_periodictask (name, task, args, kwargs, headers, crontab_id, enabled, one_off, total_run_count, date_changed, description) VALUES ${rows.join(',')}`,
    );
    const from = beat.lines.length;
    await db.execute("UPDATE django_celery_beat_periodictask SET enabled = 1 WHERE name LIKE 'bulk-%'");
    const pickedUp = (line: { msg?: unknown }) =>
      typeof line.msg === 'string' && line.msg.startsWith('picked up a change');
    const reload = await beat.waitForLine((line) => pickedUp(line) && line.tasks === 10_000, WAIT_MS, from);
    assert.equal(reload.tasks, 10_000);
    const reloads = beat.lines.slice(from).filter(pickedUp);
    assert.equal(reloads.length, 1, `one reload, not ${reloads.length}`);
  });
});

describe('beat on MariaDB with --db-timezone Asia/Shanghai (Django USE_TZ = False)', () => {
  let temp: TempMysqlDatabase;
  let db: MysqlDatabase;
  let beat: BeatProcess;
  const redis = new Redis(redisServer.url());
  const queue = `mysql_tz_${randomBytes(4).toString('hex')}`;

  before(async () => {
    temp = await createTempMysqlDatabase('dbbeat_mysql_beat_tz');
    db = new MysqlDatabase({ url: temp.url, dbTimeZone: 'Asia/Shanghai' });
    await migrate(db);
    beat = spawnBeat({
      databaseUrl: temp.url,
      brokerUrl: redisServer.url(),
      extraArgs: ['--db-timezone', 'Asia/Shanghai'],
    });
    await beat.waitForLine((line) => line.msg === 'became leader', WAIT_MS);
  });
  after(async () => {
    await beat?.stop();
    redis.disconnect();
    await db?.close();
    await temp?.drop();
  });

  test('a clocked task stored as a Shanghai wall time runs at that instant, not 8 hours off', async () => {
    // Stored as Django with USE_TZ = False and TIME_ZONE = Asia/Shanghai stores it: naive local time.
    const due = Math.ceil((Date.now() + 3_000) / 1000) * 1000;
    const wall = new Date(due + 8 * 3_600_000).toISOString().replace('T', ' ').replace('Z', '');
    await db.execute('INSERT INTO django_celery_beat_clockedschedule (clocked_time) VALUES (?)', [wall]);
    await db.execute(
      `INSERT INTO django_celery_beat_periodictask (name, task, args, kwargs, headers, queue, clocked_id, enabled, one_off, total_run_count, date_changed, description)
       SELECT 'launch', 'dbbeat_test.record', '[]', '{}', '{}', ?, MAX(id), 1, 1, 0, ?, '' FROM django_celery_beat_clockedschedule`,
      [queue, new Date(Date.now() + 8 * 3_600_000).toISOString().replace('T', ' ').replace('Z', '')],
    );
    const [run] = await waitFor(
      'the clocked run',
      async () => {
        const found = await readRedisRuns(redis, queue);
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 15_000 },
    );
    assert.equal(run?.slot, due);
    assert.ok(Math.abs(Date.now() - due) < 3_000, `sent ${Date.now() - due} ms from its time`);
    // Recorded as Django would read it back: the Shanghai wall time of the slot.
    const recorded = await waitFor('the run recorded', async () => {
      const [now] = await db.query<{ last_run_at: string | null }>(
        "SELECT last_run_at FROM django_celery_beat_periodictask WHERE name = 'launch'",
      );
      return now?.last_run_at ?? undefined;
    });
    assert.equal(recorded, `${wall}000`);
  });
});
