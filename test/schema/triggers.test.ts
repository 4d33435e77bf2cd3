import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import type { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { backends, nextEvent, type TestDatabase } from './backends.js';

type Change = {
  id: string;
  table_name: string;
  row_id: number;
  op: string;
};

async function insertInterval(db: Pick<Database, 'query'>, every = 10): Promise<number> {
  const [row] = await db.query<{ id: number }>(
    "INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES ($1, 'seconds') RETURNING id",
    [every],
  );
  return row!.id;
}

async function insertTask(db: Pick<Database, 'query'>, name: string, intervalId: number): Promise<number> {
  const [row] = await db.query<{ id: number }>(
    `INSERT INTO django_celery_beat_periodictask
       (name, task, args, kwargs, headers, enabled, one_off, total_run_count, date_changed, description, interval_id)
     VALUES ($1, 'proj.tasks.add', '[]', '{}', '{}', true, false, 0, now(), '', $2) RETURNING id`,
    [name, intervalId],
  );
  return row!.id;
}

async function lastUpdate(db: Database): Promise<number> {
  const [row] = await db.query<{ last_update: Date }>(
    'SELECT last_update FROM django_celery_beat_periodictasks WHERE ident = 1',
  );
  return row!.last_update.getTime();
}

async function changesAfter(db: Database, id: string): Promise<Change[]> {
  return db.query<Change>('SELECT id, table_name, row_id, op FROM dbbeat_change WHERE id > $1 ORDER BY id', [id]);
}

async function lastChangeId(db: Database): Promise<string> {
  const [row] = await db.query<{ id: string }>('SELECT coalesce(max(id), 0)::text AS id FROM dbbeat_change');
  return row!.id;
}

for (const backend of backends) {
  describe(`change triggers on ${backend.name}`, () => {
    let target: TestDatabase;
    let db: Database;
    const notifications: string[] = [];
    let waiters: ((payload: string) => void)[] = [];
    let stopListening: () => Promise<void>;

    before(async () => {
      target = await backend.create();
      db = target.db;
      await migrate(db);
      stopListening = await db.listen('dbbeat_change', (payload) => {
        notifications.push(payload);
        for (const waiter of waiters) waiter(payload);
        waiters = [];
      });
    });
    after(async () => {
      await stopListening();
      await target.cleanup();
    });

    const nextNotification = () => nextEvent<string>((deliver) => waiters.push(deliver));

    /**
     * The last change id, once its notification (so every earlier one) has arrived: a
     * notification a test then awaits is its own, not a late one of the rows it set up.
     */
    const settledChangeId = async (): Promise<string> => {
      const id = await lastChangeId(db);
      const deadline = Date.now() + 5_000;
      while (id !== '0' && !notifications.some((payload) => payload !== '' && BigInt(payload) >= BigInt(id))) {
        if (Date.now() > deadline) throw new Error(`no notification for change ${id} within 5 s`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return id;
    };

    test('inserting a schedule and a task logs both, bumps last_update and notifies', async () => {
      const since = await settledChangeId();
      const before = await lastUpdate(db);
      const notified = nextNotification();
      const intervalId = await insertInterval(db);
      assert.equal(await notified, String(BigInt(since) + 1n));
      const taskId = await insertTask(db, `insert-${backend.name}`, intervalId);
      const changes = await changesAfter(db, since);
      assert.deepEqual(
        changes.map(({ table_name, row_id, op }) => ({ table_name, row_id, op })),
        [
          { table_name: 'django_celery_beat_intervalschedule', row_id: intervalId, op: 'INSERT' },
          { table_name: 'django_celery_beat_periodictask', row_id: taskId, op: 'INSERT' },
        ],
      );
      assert.ok((await lastUpdate(db)) > before);
    });

    test("a raw UPDATE of a task's args logs it, bumps last_update and notifies the change id", async () => {
      const taskId = await insertTask(db, `args-${backend.name}`, await insertInterval(db));
      const since = await settledChangeId();
      const before = await lastUpdate(db);
      const notified = nextNotification();
      await db.query(`UPDATE django_celery_beat_periodictask SET args = '[1, 2]' WHERE id = $1`, [taskId]);
      const changes = await changesAfter(db, since);
      assert.equal(changes.length, 1);
      assert.deepEqual(
        { table: changes[0]!.table_name, row: changes[0]!.row_id, op: changes[0]!.op },
        { table: 'django_celery_beat_periodictask', row: taskId, op: 'UPDATE' },
      );
      assert.equal(await notified, changes[0]!.id);
      assert.ok((await lastUpdate(db)) > before);
    });

    test("beat's bookkeeping (last_run_at, total_run_count only) logs, bumps and notifies nothing", async () => {
      const taskId = await insertTask(db, `bookkeeping-${backend.name}`, await insertInterval(db));
      const since = await settledChangeId();
      const before = await lastUpdate(db);
      const notificationsBefore = notifications.length;
      await db.query(
        `UPDATE django_celery_beat_periodictask
           SET last_run_at = clock_timestamp(), total_run_count = total_run_count + 1 WHERE id = $1`,
        [taskId],
      );
      // A change made afterwards is the first thing notified, so nothing came before it.
      const notified = nextNotification();
      await insertInterval(db, 99);
      const marker = await notified;
      const changes = await changesAfter(db, since);
      assert.deepEqual(
        changes.map((change) => change.table_name),
        ['django_celery_beat_intervalschedule'],
      );
      assert.equal(marker, changes[0]!.id);
      assert.equal(notifications.length, notificationsBefore + 1);
      assert.ok((await lastUpdate(db)) > before); // bumped by the interval insert only
    });

    test("django-celery-beat's save after a run (last_run_at, total_run_count, date_changed) is not a change", async () => {
      const taskId = await insertTask(db, `django-bookkeeping-${backend.name}`, await insertInterval(db));
      const since = await settledChangeId();
      const before = await lastUpdate(db);
      await db.query(
        `UPDATE django_celery_beat_periodictask
           SET last_run_at = clock_timestamp(), total_run_count = total_run_count + 1, date_changed = clock_timestamp() WHERE id = $1`,
        [taskId],
      );
      assert.deepEqual(await changesAfter(db, since), []);
      assert.equal(await lastUpdate(db), before, 'last_update not bumped, so django-celery-beat does not reload');
      await db.query(
        `UPDATE django_celery_beat_periodictask SET date_changed = clock_timestamp(), enabled = false WHERE id = $1`,
        [taskId],
      );
      assert.equal((await changesAfter(db, since)).length, 1, 'an edit that also moves date_changed still counts');
    });

    test('an UPDATE that changes nothing is not a change', async () => {
      const intervalId = await insertInterval(db, 7);
      const since = await settledChangeId();
      await db.query('UPDATE django_celery_beat_intervalschedule SET every = every WHERE id = $1', [intervalId]);
      assert.deepEqual(await changesAfter(db, since), []);
    });

    test('deleting a schedule deletes its tasks, and both deletions are logged', async () => {
      const intervalId = await insertInterval(db);
      const taskId = await insertTask(db, `cascade-${backend.name}`, intervalId);
      const since = await settledChangeId();
      await db.query('DELETE FROM django_celery_beat_intervalschedule WHERE id = $1', [intervalId]);
      const remaining = await db.query('SELECT id FROM django_celery_beat_periodictask WHERE id = $1', [taskId]);
      assert.equal(remaining.length, 0);
      const changes = await changesAfter(db, since);
      assert.deepEqual(
        changes.map(({ table_name, row_id, op }) => ({ table_name, row_id, op })),
        [
          { table_name: 'django_celery_beat_periodictask', row_id: taskId, op: 'DELETE' },
          { table_name: 'django_celery_beat_intervalschedule', row_id: intervalId, op: 'DELETE' },
        ],
      );
    });

    test('crontab, solar and clocked schedules are tracked too', async () => {
      const since = await settledChangeId();
      await db.query(
        `INSERT INTO django_celery_beat_crontabschedule (minute, hour, day_of_week, day_of_month, month_of_year, timezone)
         VALUES ('0', '4', '*', '*', '*', 'Europe/Paris')`,
      );
      await db.query(
        "INSERT INTO django_celery_beat_solarschedule (event, latitude, longitude) VALUES ('sunrise', 48.85, 2.35)",
      );
      await db.query('INSERT INTO django_celery_beat_clockedschedule (clocked_time) VALUES (now())');
      const tables = (await changesAfter(db, since)).map((change) => change.table_name);
      assert.deepEqual(tables, [
        'django_celery_beat_crontabschedule',
        'django_celery_beat_solarschedule',
        'django_celery_beat_clockedschedule',
      ]);
    });

    test('a bulk UPDATE logs every row but notifies once', async () => {
      const intervalId = await insertInterval(db);
      const rows = 1_000;
      await db.query(
        `INSERT INTO django_celery_beat_periodictask
           (name, task, args, kwargs, headers, enabled, one_off, total_run_count, date_changed, description, interval_id)
         SELECT 'bulk-' || n, 'proj.tasks.add', '[]', '{}', '{}', true, false, 0, now(), '', $1
         FROM generate_series(1, ${rows}) AS n`,
        [intervalId],
      );
      const since = await settledChangeId();
      const notificationsBefore = notifications.length;
      const notified = nextNotification();
      await db.query("UPDATE django_celery_beat_periodictask SET enabled = false WHERE name LIKE 'bulk-%'");
      const last = await notified;
      const changes = await changesAfter(db, since);
      assert.equal(changes.length, rows);
      assert.equal(last, changes[changes.length - 1]!.id);
      // Give a stray second notification the chance to arrive: a round trip suffices.
      await db.query('SELECT 1');
      assert.equal(notifications.length, notificationsBefore + 1);
    });
  });
}
