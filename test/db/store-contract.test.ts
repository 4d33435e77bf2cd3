// One contract for every dialect's BeatStore: the same cases against PostgreSQL
// (PostgresStore) and MariaDB/MySQL (MysqlStore), so the beat can rely on the same
// behaviour whichever database it runs on. DBBEAT_TEST_DIALECT=postgres or mysql runs one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { migrate } from '../../src/db/migrate.js';
import type { MysqlDatabase } from '../../src/db/mysql/connection.js';
import { beatStoreFor, openDatabase, type OpenDatabase } from '../../src/db/open.js';
import type { BeatStore, TaskRow } from '../../src/db/store.js';
import { joinSchedules } from '../../src/db/schedule-join.js';
import { createTempMysqlDatabase } from '../support/mysql.js';
import { insertMysqlTask } from '../support/mysql-rows.js';
import { createTempDatabase } from '../support/postgres.js';
import { insertTask, type TaskRowInput } from '../support/rows.js';

interface DialectUnderTest {
  name: 'postgres' | 'mysql';
  create(): Promise<{ url: string; drop(): Promise<void> }>;
  insert(db: OpenDatabase, input: TaskRowInput): Promise<number>;
}

const dialects: DialectUnderTest[] = [
  {
    name: 'postgres',
    create: () => createTempDatabase('dbbeat_contract'),
    insert: (db, input) =>
      insertTask(
        { query: async (sql: string, params?: unknown[]) => ({ rows: await db.query(sql, params) }) } as never,
        input,
      ),
  },
  {
    name: 'mysql',
    create: () => createTempMysqlDatabase('dbbeat_contract'),
    insert: (db, input) => insertMysqlTask(db as unknown as MysqlDatabase, input),
  },
];
const only = process.env.DBBEAT_TEST_DIALECT;

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const dialect of dialects.filter((d) => only === undefined || only === '' || d.name === only)) {
  describe(`BeatStore contract: ${dialect.name}`, () => {
    let temp: { url: string; drop(): Promise<void> };
    let db: OpenDatabase;
    let store: BeatStore;

    before(async () => {
      temp = await dialect.create();
      db = await openDatabase({ databaseUrl: temp.url });
      await migrate(db);
      store = beatStoreFor(db);
    });
    after(async () => {
      await db.close();
      await temp.drop();
    });

    test("the installation id and the database's clock", async () => {
      assert.match((await store.installationId()) ?? '', /^[0-9a-f-]{36}$/);
      assert.ok(Math.abs((await store.databaseClock()) - Date.now()) < 5_000);
    });

    test('the lease: one holder at a time, renewed with the same token, taken over with the next', async () => {
      const a = await store.acquireLease('contract', 'a', 5);
      assert.ok(a !== null && a.secondsLeft > 4 && a.secondsLeft <= 5, JSON.stringify(a));
      assert.ok(
        Math.abs(a.databaseNow - Date.now()) < 60_000,
        `the grant carries the database's clock: ${a.databaseNow}`,
      );
      assert.equal(await store.acquireLease('contract', 'b', 5), null);
      assert.equal((await store.acquireLease('contract', 'a', 5))?.token, a.token);
      await store.releaseLease('contract', 'a', a.token);
      const b = await store.acquireLease('contract', 'b', 0.3);
      assert.equal(b?.token, String(Number(a.token) + 1));
      await delay(500); // b lapses by the database's clock
      const c = await store.acquireLease('contract', 'c', 5);
      assert.equal(c?.token, String(Number(a.token) + 2));
    });

    test('runs are recorded only under the fence; bookkeeping logs no change', async () => {
      const grant = (await store.acquireLease('fence', 'me', 30))!;
      const id = await dialect.insert(db, {
        name: 'fenced',
        schedule: { interval: { every: 10, period: 'seconds' } },
        dateChanged: new Date('2026-11-30T10:00:00Z'),
      });
      const other = await dialect.insert(db, {
        name: 'one-off',
        schedule: { interval: { every: 10, period: 'seconds' } },
        oneOff: true,
      });
      const { top } = await store.changeFeedStart(10);
      const at = Date.parse('2026-11-30T12:00:00.123Z');
      assert.deepEqual(
        await store.recordRuns([{ id, lastRunAt: at, runs: 1, disable: false }], {
          name: 'fence',
          token: String(Number(grant.token) + 7),
        }),
        { held: false, written: [], locked: [] },
      );
      const outcome = await store.recordRuns(
        [
          { id, lastRunAt: at, runs: 1, disable: false },
          { id: other, lastRunAt: at, runs: 1, disable: true },
          { id: 2_000_000_000, lastRunAt: at, runs: 1, disable: false },
        ],
        { name: 'fence', token: grant.token },
      );
      assert.equal(outcome.held, true);
      assert.deepEqual(
        [...outcome.written].sort((x, y) => x - y),
        [id, other].sort((x, y) => x - y),
      );
      assert.deepEqual(outcome.locked, []);
      const [row, oneOff] = await store.loadByIds([id, other]).then((rows) => rows.sort((x, y) => x.id - y.id));
      assert.deepEqual(
        [row?.last_run_at, row?.total_run_count, row?.enabled, row?.date_changed],
        [at, 1, true, Date.parse('2026-11-30T10:00:00Z')],
      );
      assert.deepEqual([oneOff?.enabled, oneOff?.total_run_count], [false, 1]);
      const logged = await store.readChanges(top, []);
      assert.deepEqual(
        logged.filter((change) => change.rowId === id),
        [],
        'bookkeeping is not a change',
      );
    });

    test('disableTasks disables only what is enabled, under the fence', async () => {
      const grant = (await store.acquireLease('disable', 'me', 30))!;
      const id = await dialect.insert(db, {
        name: 'to-disable',
        schedule: { interval: { every: 10, period: 'seconds' } },
      });
      assert.deepEqual(await store.disableTasks([id], { name: 'disable', token: String(Number(grant.token) + 1) }), []);
      assert.deepEqual(await store.disableTasks([id], { name: 'disable', token: grant.token }), [id]);
      assert.deepEqual(await store.disableTasks([id], { name: 'disable', token: grant.token }), []);
      assert.equal((await store.loadByIds([id]))[0]?.enabled, false);
    });

    test('the change log names inserted and edited rows in id order, and the tasks of a changed schedule', async () => {
      const { top } = await store.changeFeedStart(10);
      const id = await dialect.insert(db, {
        name: 'logged',
        schedule: { crontab: { minute: '5', timezone: 'Europe/Berlin' } },
      });
      await db.query(`UPDATE django_celery_beat_periodictask SET args = '[9]' WHERE id = ${id}`);
      await db.query(`UPDATE django_celery_beat_periodictask SET args = '[9]' WHERE id = ${id}`); // no change: not logged
      const changes = await store.readChanges(top, []);
      assert.deepEqual(
        changes.map((change) => [
          change.table,
          change.rowId === id || change.table !== 'django_celery_beat_periodictask',
        ]),
        [
          ['django_celery_beat_crontabschedule', true],
          ['django_celery_beat_periodictask', true],
          ['django_celery_beat_periodictask', true],
        ],
      );
      assert.ok(changes.every((change, index) => index === 0 || change.id > changes[index - 1]!.id));
      const crontabId = changes[0]!.rowId;
      assert.deepEqual(await store.tasksOfSchedules({ crontab: [crontabId], interval: [], solar: [], clocked: [] }), [
        id,
      ]);
      assert.deepEqual(await store.tasksOfSchedules({ crontab: [], interval: [], solar: [], clocked: [] }), []);
      const row = (await store.loadByIds([id]))[0]!;
      assert.deepEqual([row.c_minute, row.c_timezone, row.args, row.one_off], ['5', 'Europe/Berlin', '[9]', false]);
    });

    test('pages of enabled tasks in id order; solar coordinates as numbers', async () => {
      const solar = await dialect.insert(db, {
        name: 'solar',
        schedule: { solar: { event: 'sunrise', latitude: 48.8566, longitude: 2.3522 } },
      });
      await dialect.insert(db, {
        name: 'clocked',
        schedule: { clocked: { clocked_time: new Date('2030-01-07T10:00:00.123Z') } },
      });
      await dialect.insert(db, { name: 'cron', schedule: { crontab: { minute: '7', timezone: 'Asia/Tokyo' } } });
      await dialect.insert(db, { name: 'every', schedule: { interval: { every: 7, period: 'minutes' } } });
      const all: number[] = [];
      const pages: TaskRow[] = [];
      let afterId = 0;
      for (;;) {
        const read = await store.loadEnabledPage(afterId, 2);
        const page = joinSchedules(read.tasks, read.schedules);
        all.push(...page.map((row) => row.id));
        pages.push(...page);
        if (page.length < 2) break;
        afterId = page[page.length - 1]!.id;
      }
      assert.deepEqual(
        all,
        [...all].sort((x, y) => x - y),
      );
      // The page (tasks read alone, schedules joined in memory) gives what the joined read gives.
      assert.deepStrictEqual(
        pages,
        (await store.loadByIds(all)).sort((x, y) => x.id - y.id),
      );
      assert.ok(pages.some((row) => row.k_clocked_time === Date.parse('2030-01-07T10:00:00.123Z')));
      assert.ok(pages.some((row) => row.c_timezone === 'Asia/Tokyo' && row.c_minute === '7'));
      assert.ok(pages.some((row) => row.i_every === 7 && row.i_period === 'minutes'));
      const row = (await store.loadByIds([solar]))[0]!;
      assert.deepEqual([row.s_event, row.s_latitude, row.s_longitude], ['sunrise', 48.8566, 2.3522]);
      assert.deepEqual(await store.loadByIds([]), []);
    });

    test('watchChanges calls back soon after a write, and stops', async () => {
      let calls = 0;
      const stop = await store.watchChanges(() => {
        calls += 1;
      });
      await dialect.insert(db, { name: 'watched', schedule: { interval: { every: 10, period: 'seconds' } } });
      const deadline = Date.now() + 3_000;
      while (calls === 0 && Date.now() < deadline) await delay(20);
      await stop();
      assert.ok(calls > 0, 'called after the insert');
    });

    test('pruneChanges drops old change-log rows', async () => {
      await delay(1_100);
      assert.notDeepEqual(await store.readChanges(0, []), []);
      await store.pruneChanges(1);
      assert.deepEqual(await store.readChanges(0, []), []);
    });
  });
}
