// LOST: a run with no outcome within --lost-after of being sent. The sweep with an
// injected clock on every dialect (which runs, which not, a later real outcome
// overwrites LOST), and end to end: `dbbeat beat --events --lost-after 2` sends a run to a
// queue no worker consumes; it becomes LOST; a worker started later runs it and its
// events turn the run into SUCCESS.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';

import { migrate } from '../../src/db/migrate.js';
import { beatStoreFor, openDatabase, type OpenDatabase, runStoreFor } from '../../src/db/open.js';
import { LostSweeper } from '../../src/outcomes/lost.js';
import { type BeatProcess, spawnBeat } from '../support/beat-process.js';
import { type CeleryWorker, startCeleryWorker } from '../support/celery/worker.js';
import { testDialects, withDialectDatabase } from '../support/dialects.js';
import { createTempDatabase, type TempDatabase } from '../support/postgres.js';
import { PrivateRedis } from '../support/private-redis.js';
import { insertTask, sentRun } from '../support/rows.js';

const silent = { info: () => undefined, warn: () => undefined };
const T0 = Date.parse('2026-11-30T12:00:00.000Z');

for (const dialect of testDialects) {
  describe(`LOST sweep: ${dialect.name}`, () => {
    const database = withDialectDatabase(dialect, 'dbbeat_lost');

    test('open runs sent before now - lostAfter become LOST; finished and recent ones stay; a real outcome overwrites LOST', async () => {
      const { db } = database;
      const id = await dialect.insertTask(db, { name: 'lost', schedule: { interval: { every: 1, period: 'hours' } } });
      const entry = (taskId: string, sentAt: number) => sentRun({ id, name: 'lost' }, taskId, sentAt);
      const hour = 3_600_000;
      await beatStoreFor(db).insertRuns([
        entry('sent-old', T0 - 2 * hour),
        entry('started-old', T0 - 2 * hour),
        entry('retry-old', T0 - 2 * hour),
        entry('done-old', T0 - 2 * hour),
        entry('sent-new', T0 - hour / 2),
        { ...entry('skipped', T0 - 2 * hour), taskId: null, state: 'SKIPPED' },
      ]);
      const store = runStoreFor(db);
      await store.applyOutcomes([
        { taskId: 'started-old', state: 'STARTED', at: T0 - 2 * hour + 1000 },
        { taskId: 'retry-old', state: 'RETRY', at: T0 - 2 * hour + 1000 },
        { taskId: 'done-old', state: 'FAILURE', at: T0 - 2 * hour + 1000, exceptionType: 'E' },
      ]);
      let now = T0;
      const lostCounts: number[] = [];
      const sweeper = new LostSweeper(
        store,
        { lostAfterMs: hour, now: () => now, onLost: (n) => lostCounts.push(n) },
        silent,
        () => true,
      );
      assert.equal(await sweeper.sweepOnce(), 3);
      const states = async () =>
        Object.fromEntries(
          (await db.query<{ task_id: string | null; state: string }>('SELECT task_id, state FROM dbbeat_run')).map(
            (r) => [r.task_id ?? 'skipped', r.state],
          ),
        );
      assert.deepEqual(await states(), {
        'sent-old': 'LOST',
        'started-old': 'LOST',
        'retry-old': 'LOST',
        'done-old': 'FAILURE',
        'sent-new': 'SENT',
        skipped: 'SKIPPED',
      });
      assert.equal(await sweeper.sweepOnce(), 0, 'nothing more');
      now = T0 + hour; // the clock moves on: the newer run's hour is up
      assert.equal(await sweeper.sweepOnce(), 1);
      assert.deepEqual(lostCounts, [3, 1]);
      // A long task finishing after all: its outcome overwrites LOST.
      assert.deepEqual(
        await store.applyOutcomes([
          { taskId: 'started-old', state: 'SUCCESS', at: T0 + 5000, runtime: 7205, result: "'late'" },
        ]),
        [{ taskId: 'started-old', state: 'SUCCESS', previous: 'LOST', runtime: 7205 }],
      );
      assert.equal((await states())['started-old'], 'SUCCESS');
      assert.deepEqual(await store.openRuns(now + hour, 10), []);
    });
  });
}

describe('LOST end to end (Redis)', () => {
  let redis: PrivateRedis | undefined;
  let temp: TempDatabase | undefined;
  let db: OpenDatabase | undefined;
  let beat: BeatProcess | undefined;
  let worker: CeleryWorker | undefined;

  after(async () => {
    await beat?.stop();
    await worker?.stop();
    await db?.close();
    await temp?.drop();
    await redis?.remove();
  });

  test('a run whose worker is down becomes LOST after --lost-after; a worker that runs it later makes it SUCCESS', async () => {
    redis = await PrivateRedis.start();
    temp = await createTempDatabase('dbbeat_lost');
    db = await openDatabase({ databaseUrl: temp.url });
    await migrate(db);
    const queue = `dbbeat_lost_${randomBytes(4).toString('hex')}`;
    beat = spawnBeat({
      databaseUrl: temp.url,
      brokerUrl: redis.url(),
      extraArgs: ['--events', '--lost-after', '2'],
    });
    await beat.waitForLine((line) => line.msg.startsWith('Celery events: subscribed'), 60_000);
    const database = db;
    await insertTask(
      { query: async (sql: string, params?: unknown[]) => ({ rows: await database.query(sql, params) }) } as never,
      {
        name: 'nobody-listens',
        task: 'dbbeat_test.outcome_ok',
        args: '[40, 2]',
        queue,
        oneOff: true,
        schedule: { clocked: { clocked_time: new Date(Date.now() + 1000) } },
      },
    );
    const state = async () =>
      (await database.query<{ state: string; sent_at: Date; updated_at: Date }>('SELECT * FROM dbbeat_run'))[0];
    const poll = async (want: string, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const row = await state();
        if (row?.state === want) return row;
        if (Date.now() > deadline) throw new Error(`run is ${row?.state ?? 'missing'}, not ${want}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const lost = await poll('LOST', 30_000);
    assert.ok(lost.updated_at.getTime() - lost.sent_at.getTime() >= 2000, 'not before --lost-after');
    await beat.waitForLine((line) => /^LOST runs: 1 run/.test(line.msg), 5000);

    // The worker comes back: the message was waiting in its queue all along.
    worker = await startCeleryWorker({ brokerUrl: redis.url(), queues: [queue], events: true });
    const done = await poll('SUCCESS', 60_000);
    assert.deepEqual(
      [done.state, (done as unknown as { result: string }).result],
      ['SUCCESS', "{'sum': 42, 'who': 'outcome_ok'}"],
    );
  });
});
