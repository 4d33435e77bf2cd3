// MariaDB: an open transaction holding one task's row lock never stops the beat sending
// nor recording the other tasks; the held run is recorded once the lock is released, and
// the log names the blocking connection. An in-process beat (fake clock, memory broker)
// on a fresh MariaDB database (random name, dropped after); the lock is held by a second
// real connection for several seconds of real time. Without SKIP LOCKED the beat's first
// record waits innodb_lock_wait_timeout (50 s) and the step times out here.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';

import mariadb from 'mariadb';
import pino from 'pino';

import { Beat } from '../../src/beat/loop.js';
import { resolveConfig } from '../../src/config.js';
import { poolConfigOf } from '../../src/db/mysql/connection.js';
import { allTestDialects } from '../support/dialects.js';
import { BeatBench, FakeClock, MemoryBroker, RunningBeat } from '../beat/in-process.js';

const S = 1000;
const T0 = Date.parse('2030-01-07T10:00:00.000Z');
const TASKS = ['c1', 'c2', 'c3', 'c4', 'c5'];
const HOLD_MS = 4000;

let bench: BeatBench;
before(async () => {
  const mysql = allTestDialects.find((d) => d.name === 'mysql');
  assert.ok(mysql, 'the MySQL test dialect is listed');
  bench = await BeatBench.create(mysql);
});
after(async () => {
  await bench.close();
});

test('MariaDB: a row lock held by another transaction is skipped, named, and the run recorded after it is released', async () => {
  for (const name of TASKS) {
    await bench.insertTask({
      name,
      schedule: { interval: { every: 10, period: 'seconds' } },
      dateChanged: new Date(T0 - 5 * S),
    });
  }
  const lines: Array<{ level: number; msg: string; blockerPid?: number | null }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n'))
        if (line.trim() !== '') lines.push(JSON.parse(line) as (typeof lines)[number]);
      done();
    },
  });
  const clock = new FakeClock(T0);
  const broker = new MemoryBroker(clock);
  const config = resolveConfig(
    { leaseSeconds: 300, maxInterval: 60, catchUpWindow: 15, migrate: false, databaseUrl: bench.temp.url },
    {},
  );
  const beat = new Beat(bench.store, broker, pino({ level: 'info' }, sink), config, clock);
  const running = new RunningBeat(beat, clock, broker);
  const holder = await mariadb.createConnection(poolConfigOf(bench.temp.url));
  try {
    await running.waitIdle(() => beat.start());
    const [{ id: holderId }] = await holder.query<[{ id: number | bigint }]>('SELECT CONNECTION_ID() AS id');
    await holder.beginTransaction();
    await holder.query(`UPDATE django_celery_beat_periodictask SET enabled = enabled WHERE name = 'c1'`);
    const lockedAt = Date.now();

    await running.runUntil(T0 + 60 * S);
    const busyMs = Date.now() - lockedAt;
    for (const name of TASKS)
      assert.equal(broker.slotsOf(name).length, 6, `${name} sent at each of its 6 slots while c1 is locked`);
    const counts = async () =>
      new Map(
        (
          await bench.db.query<{ name: string; total_run_count: number }>(
            'SELECT name, total_run_count FROM django_celery_beat_periodictask',
          )
        ).map((r) => [r.name, Number(r.total_run_count)]),
      );
    let recorded = await counts();
    assert.equal(recorded.get('c1'), 0, 'c1 not recorded while its row is locked');
    for (const name of TASKS.slice(1)) assert.equal(recorded.get(name), 6, `${name} recorded while c1 is locked`);
    assert.ok(busyMs < HOLD_MS, `six steps took ${busyMs} ms of real time: no step waited on the lock`);
    const warning = lines.find((l) => l.msg.startsWith('cannot record the run of task "c1" yet'));
    assert.ok(warning, 'one warning about c1');
    assert.equal(Number(warning.blockerPid), Number(holderId), 'the blocking connection is named');
    assert.match(warning.msg, new RegExp(`locked by process ${Number(holderId)} \\(`));
    assert.equal(lines.filter((l) => l.msg.startsWith('cannot record the run of task')).length, 1, 'said once');

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, lockedAt + HOLD_MS - Date.now())));
    await holder.commit();
    await running.runUntil(T0 + 70 * S);
    recorded = await counts();
    for (const name of TASKS) {
      const slots = broker.slotsOf(name);
      assert.equal(slots.length, 7, `${name}: 7 slots sent`);
      assert.equal(new Set(slots).size, slots.length, `${name}: nothing sent twice`);
      assert.equal(recorded.get(name), 7, `${name}: each run recorded exactly once`);
    }
    assert.ok(
      lines.some((l) => l.msg.startsWith('recorded the held run(s) of task "c1"')),
      'the release is logged',
    );
  } catch (error) {
    for (const line of lines) process.stderr.write(`${line.msg}\n`); // what the beat said, to see why
    throw error;
  } finally {
    await holder.end().catch(() => undefined);
    await running.stop();
  }
});

test('MariaDB: inspectSchema lists every table and trigger, and names one that was dropped', async () => {
  const before = await bench.store.inspectSchema();
  assert.ok(before.length >= 29, `${before.length} objects listed`);
  assert.deepEqual(
    before.filter((o) => !o.present),
    [],
    'all present after migrate',
  );
  await bench.db.query('DROP TRIGGER dbbeat_log_insert_periodictask');
  const afterDrop = await bench.store.inspectSchema();
  assert.deepEqual(
    afterDrop.filter((o) => !o.present).map((o) => [o.kind, o.name, o.table, o.migration]),
    [['trigger', 'dbbeat_log_insert_periodictask', 'django_celery_beat_periodictask', '0003_change_triggers.sql']],
  );
});

const bin = fileURLToPath(new URL('../../bin/dbbeat.js', import.meta.url));
async function dbbeat(args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [bin, ...args], {
      env: { ...process.env, DATABASE_URL: '' },
    });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '' };
  }
}

test(
  "MariaDB: dbbeat doctor names the dropped trigger (exit 1); dbbeat migrate repairs it and keeps 0005's update trigger",
  { timeout: 60_000 },
  async () => {
    const sick = await dbbeat(['doctor', '--database-url', bench.temp.url]);
    assert.equal(sick.code, 1, sick.stdout);
    assert.match(sick.stdout, /MISSING +trigger dbbeat_log_insert_periodictask on django_celery_beat_periodictask/);
    assert.match(sick.stdout, /ok +migration 0005_django_bookkeeping_is_not_a_change\.sql/);
    const repaired = await dbbeat(['migrate', '--database-url', bench.temp.url]);
    assert.equal(repaired.code, 0, repaired.stdout);
    assert.match(repaired.stdout, /repaired trigger dbbeat_log_insert_periodictask/);
    const healthy = await dbbeat(['doctor', '--database-url', bench.temp.url]);
    assert.equal(healthy.code, 0, healthy.stdout);
    assert.match(healthy.stdout, /healthy/);
    const [update] = await bench.db.query<{ body: string }>(
      `SELECT ACTION_STATEMENT AS body FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME = 'dbbeat_log_update_periodictask'`,
    );
    assert.doesNotMatch(
      update!.body,
      /date_changed/,
      "0005's version (0003's compares date_changed): Django's bookkeeping save is not a change",
    );
  },
);
