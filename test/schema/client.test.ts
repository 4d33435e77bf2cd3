// The dbbeat() Prisma extension against a fresh, migrated database on each backend:
// change tracking (with and without the database triggers), bookkeeping writes,
// validated writes, and periodicTask.schedule().
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { PyNumber } from '../../src/broker/pyjson.js';

import { type DbbeatClient, ValidationError, createClient } from '../../src/model/client.js';
import { migrate } from '../../src/db/migrate.js';
import { backends, type TestDatabase } from './backends.js';

const trackedTables = [
  'django_celery_beat_intervalschedule',
  'django_celery_beat_crontabschedule',
  'django_celery_beat_solarschedule',
  'django_celery_beat_clockedschedule',
  'django_celery_beat_periodictask',
];

for (const backend of backends) {
  describe(`dbbeat client on ${backend.name}`, () => {
    let target: TestDatabase;
    let prisma: DbbeatClient;
    let counter = 0;
    const uniqueName = (label: string) => `${label}-${(counter += 1)}`;

    /** last_update in microseconds (a JS Date would hide two bumps in one millisecond). */
    async function lastUpdateMicros(): Promise<string | undefined> {
      const [row] = await target.db.query<{ micros: string }>(
        `SELECT (extract(epoch FROM last_update) * 1000000)::bigint::text AS micros
           FROM django_celery_beat_periodictasks WHERE ident = 1`,
      );
      return row?.micros;
    }

    async function bumps(write: () => Promise<unknown>): Promise<boolean> {
      const before = await lastUpdateMicros();
      await write();
      return (await lastUpdateMicros()) !== before;
    }

    async function countRows(table: string): Promise<number> {
      const [row] = await target.db.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${table}`);
      return row?.count ?? 0;
    }

    async function newInterval() {
      return prisma.intervalSchedule.create({ data: { every: 10, period: 'seconds' } });
    }

    before(async () => {
      target = await backend.create();
      await migrate(target.db);
      prisma = createClient(target.db);
    });
    after(async () => {
      await prisma.$disconnect();
      await target.cleanup();
    });

    test('changed(), updateChanged() and lastChange()', async () => {
      const first = await prisma.periodicTasks.changed();
      assert.ok(first instanceof Date);
      assert.deepEqual(await prisma.periodicTasks.lastChange(), first);
      const second = await prisma.periodicTasks.updateChanged();
      assert.ok(second.getTime() >= first.getTime());
      assert.deepEqual(await prisma.periodicTasks.lastChange(), second);
      await target.db.query('DELETE FROM django_celery_beat_periodictasks');
      assert.equal(await prisma.periodicTasks.lastChange(), null);
      assert.ok((await prisma.periodicTasks.changed()) instanceof Date);
      assert.notEqual(await prisma.periodicTasks.lastChange(), null);
    });

    test('raw SQL: UPDATE of args bumps, UPDATE of only last_run_at does not', async () => {
      const interval = await newInterval();
      const task = await prisma.periodicTask.create({
        data: { name: uniqueName('raw'), task: 't', intervalId: interval.id },
      });
      assert.equal(
        await bumps(() =>
          target.db.query(`UPDATE django_celery_beat_periodictask SET args = '[1]' WHERE id = $1`, [task.id]),
        ),
        true,
      );
      assert.equal(
        await bumps(() =>
          target.db.query(
            'UPDATE django_celery_beat_periodictask SET last_run_at = now(), total_run_count = total_run_count + 1 WHERE id = $1',
            [task.id],
          ),
        ),
        false,
      );
    });

    for (const triggers of ['with', 'without'] as const) {
      describe(`every write through the client bumps last_update, ${triggers} the database triggers`, () => {
        before(async () => {
          if (triggers === 'without') {
            for (const table of trackedTables)
              await target.db.query(`DROP TRIGGER dbbeat_announce_changes ON ${table}`);
          }
        });

        test('create, update, upsert, delete of a task', async () => {
          const interval = await newInterval();
          const name = uniqueName('task');
          assert.equal(
            await bumps(() => prisma.periodicTask.create({ data: { name, task: 't', intervalId: interval.id } })),
            true,
          );
          assert.equal(await bumps(() => prisma.periodicTask.update({ where: { name }, data: { args: '[2]' } })), true);
          assert.equal(
            await bumps(() =>
              prisma.periodicTask.upsert({
                where: { name },
                create: { name, task: 't', intervalId: interval.id },
                update: { enabled: false },
              }),
            ),
            true,
          );
          assert.equal(await bumps(() => prisma.periodicTask.delete({ where: { name } })), true);
        });

        test('createMany, updateMany, deleteMany of tasks', async () => {
          const interval = await newInterval();
          const prefix = uniqueName('bulk');
          const data = [1, 2, 3].map((index) => ({ name: `${prefix}-${index}`, task: 't', intervalId: interval.id }));
          assert.equal(await bumps(() => prisma.periodicTask.createMany({ data })), true);
          const where = { name: { startsWith: `${prefix}-` } };
          assert.equal(await bumps(() => prisma.periodicTask.updateMany({ where, data: { queue: 'bulk' } })), true);
          assert.equal(await bumps(() => prisma.periodicTask.deleteMany({ where })), true);
        });

        test('writes of the four schedule models', async () => {
          assert.equal(await bumps(() => prisma.crontabSchedule.create({ data: { minute: '5' } })), true);
          assert.equal(
            await bumps(() => prisma.crontabSchedule.updateMany({ where: { minute: '5' }, data: { hour: '3' } })),
            true,
          );
          const solar = { event: 'sunset', latitude: 48.85, longitude: 2.35 + (counter += 1) }; // unique per run of this test
          assert.equal(await bumps(() => prisma.solarSchedule.create({ data: solar })), true);
          const clocked = await prisma.clockedSchedule.create({
            data: { clockedTime: new Date('2030-01-01T00:00:00Z') },
          });
          assert.equal(
            await bumps(() =>
              prisma.clockedSchedule.update({
                where: { id: clocked.id },
                data: { clockedTime: new Date('2031-01-01T00:00:00Z') },
              }),
            ),
            true,
          );
          const interval = await newInterval();
          assert.equal(await bumps(() => prisma.intervalSchedule.delete({ where: { id: interval.id } })), true);
        });

        test('a bookkeeping-only update of a task does not bump', async () => {
          const interval = await newInterval();
          const task = await prisma.periodicTask.create({
            data: { name: uniqueName('bookkeeping'), task: 't', intervalId: interval.id },
          });
          assert.equal(
            await bumps(() =>
              prisma.periodicTask.update({
                where: { id: task.id },
                data: { lastRunAt: new Date(), totalRunCount: { increment: 1 } },
              }),
            ),
            false,
          );
          const after = await prisma.periodicTask.findUniqueOrThrow({ where: { id: task.id } });
          assert.deepEqual(after.dateChanged, task.dateChanged, 'date_changed is kept');
          assert.equal(after.totalRunCount, 1);
        });
      });
    }

    describe('validated writes: nothing written on failure', () => {
      async function rejects(write: () => Promise<unknown>, message: string): Promise<void> {
        const tasksBefore = await countRows('django_celery_beat_periodictask');
        const schedulesBefore = await countRows('django_celery_beat_crontabschedule');
        const lastBefore = await lastUpdateMicros();
        await assert.rejects(write, (error: unknown) => {
          assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
          assert.equal(error.message, message);
          return true;
        });
        assert.equal(await countRows('django_celery_beat_periodictask'), tasksBefore);
        assert.equal(await countRows('django_celery_beat_crontabschedule'), schedulesBefore);
        assert.equal(await lastUpdateMicros(), lastBefore);
      }

      test('create: bad JSON, nested schedule, no schedule', async () => {
        await rejects(
          () =>
            prisma.periodicTask.create({
              data: { name: uniqueName('v'), task: 't', args: 'x', crontab: { create: { minute: '61' } } },
            }),
          'args: "x" is not JSON (Expecting value at char 0); crontab.minute: "61" is out of range 0-59',
        );
        await rejects(
          () => prisma.periodicTask.create({ data: { name: uniqueName('v'), task: 't' } }),
          'schedule: one of interval, crontab, solar, clocked must be set',
        );
        await rejects(
          () =>
            prisma.periodicTask.create({
              data: { name: '', task: 't', crontab: { create: { timezone: 'Mars/Base' } } },
            }),
          'name: must not be empty; crontab.timezone: "Mars/Base" is not a known time zone',
        );
      });

      test('create with connects loads the schedule rows', async () => {
        const interval = await newInterval();
        const crontab = await prisma.crontabSchedule.create({ data: { minute: '0' } });
        await rejects(
          () =>
            prisma.periodicTask.create({
              data: {
                name: uniqueName('v'),
                task: 't',
                interval: { connect: { id: interval.id } },
                crontab: { connect: { id: crontab.id } },
              },
            }),
          'interval, crontab: only one schedule may be set',
        );
        const clocked = await prisma.clockedSchedule.create({
          data: { clockedTime: new Date('2030-01-01T00:00:00Z') },
        });
        await rejects(
          () => prisma.periodicTask.create({ data: { name: uniqueName('v'), task: 't', clockedId: clocked.id } }),
          'one_off: a clocked schedule requires one_off = true',
        );
        await rejects(
          () => prisma.periodicTask.create({ data: { name: uniqueName('v'), task: 't', crontabId: 999999 } }),
          'crontab_id: 999999 names no crontab schedule row',
        );
      });

      test('update: the current row merged with the data', async () => {
        const interval = await newInterval();
        const name = uniqueName('merge');
        await prisma.periodicTask.create({
          data: { name, task: 't', intervalId: interval.id, priority: 10, expires: new Date('2030-01-01T00:00:00Z') },
        });
        await rejects(
          () => prisma.periodicTask.update({ where: { name }, data: { expireSeconds: 60 } }),
          'expires, expire_seconds: only one of them may be set',
        );
        const crontab = await prisma.crontabSchedule.create({ data: {} });
        await rejects(
          () => prisma.periodicTask.update({ where: { name }, data: { crontabId: crontab.id } }),
          'interval, crontab: only one schedule may be set',
        );
        await rejects(
          () => prisma.periodicTask.update({ where: { name }, data: { priority: { increment: 300 } } }),
          'priority: 310 is not an integer in 0-255',
        );
        // Switching schedules in one update is valid.
        await prisma.periodicTask.update({ where: { name }, data: { crontabId: crontab.id, intervalId: null } });
        await rejects(
          () =>
            prisma.periodicTask.upsert({
              where: { name },
              create: { name, task: 't', intervalId: interval.id },
              update: { kwargs: '[]' },
            }),
          'kwargs: "[]" is not a JSON object',
        );
      });

      test('bulk writes and schedule models', async () => {
        const interval = await newInterval();
        await rejects(
          () =>
            prisma.periodicTask.createMany({
              data: [
                { name: uniqueName('many'), task: 't', intervalId: interval.id },
                { name: 'bad-one', task: 't', intervalId: interval.id, priority: 256 },
              ],
            }),
          '"bad-one": priority: 256 is not an integer in 0-255',
        );
        await rejects(
          () => prisma.periodicTask.updateMany({ where: {}, data: { headers: '[]' } }),
          'headers: "[]" is not a JSON object',
        );
        await rejects(
          () => prisma.crontabSchedule.create({ data: { hour: '24' } }),
          'crontab.hour: "24" is out of range 0-23',
        );
        const crontab = await prisma.crontabSchedule.create({ data: {} });
        await rejects(
          () => prisma.crontabSchedule.update({ where: { id: crontab.id }, data: { timezone: 'Mars/Base' } }),
          'crontab.timezone: "Mars/Base" is not a known time zone',
        );
        await rejects(
          () => prisma.crontabSchedule.updateMany({ where: {}, data: { minute: '99' } }),
          'crontab.minute: "99" is out of range 0-59',
        );
      });

      test('inside an interactive transaction, rows created in it are seen', async () => {
        const task = await prisma.$transaction(async (tx) => {
          const crontab = await tx.crontabSchedule.create({ data: { minute: '15' } });
          return tx.periodicTask.create({ data: { name: uniqueName('itx'), task: 't', crontabId: crontab.id } });
        });
        assert.ok(task.crontabId !== null);
        await rejects(
          () =>
            prisma.$transaction(async (tx) => {
              const crontab = await tx.crontabSchedule.create({ data: { minute: '16' } });
              return tx.periodicTask.create({
                data: { name: uniqueName('itx'), task: 't', crontabId: crontab.id, oneOff: 'yes' as never },
              });
            }),
          'one_off: "yes" is not a boolean',
        );
      });
    });

    describe('periodicTask.schedule()', () => {
      test('creates the task and its schedule, JSON-encoding args and kwargs', async () => {
        const name = uniqueName('scheduled');
        const changed = await bumps(() =>
          prisma.periodicTask.schedule({
            name,
            task: 'proj.tasks.add',
            crontab: { minute: '30', hour: '9', dayOfWeek: 'mon-fri', timezone: 'Europe/Berlin' },
            args: [1, 'two'],
            kwargs: { three: 3 },
            priority: 5,
          }),
        );
        assert.equal(changed, true);
        const task = await prisma.periodicTask.findUniqueOrThrow({ where: { name }, include: { crontab: true } });
        assert.equal(task.args, '[1,"two"]');
        assert.equal(task.kwargs, '{"three":3}');
        assert.equal(task.priority, 5);
        assert.equal(task.crontab?.timezone, 'Europe/Berlin');
        assert.equal(task.crontab?.hour, '9');
      });

      test('stores args, kwargs and headers as the Python values they stand for', async () => {
        const name = uniqueName('typed');
        await prisma.periodicTask.schedule({
          name,
          task: 't',
          interval: { every: 1, period: 'hours' },
          args: [
            PyNumber.float(1),
            9007199254740993n,
            PyNumber.int('18446744073709551617'),
            NaN,
            -Infinity,
            -0,
            1e16,
            1e21,
            2.5,
            { isLosslessNumber: true, value: '1.0' },
          ],
          kwargs: { when: new Date('2026-01-02T03:04:05.000Z'), ratio: PyNumber.float('2.50') },
          headers: { x_f: PyNumber.float(3) },
        });
        const task = await prisma.periodicTask.findUniqueOrThrow({ where: { name } });
        assert.equal(
          task.args,
          '[1.0,9007199254740993,18446744073709551617,NaN,-Infinity,-0.0,10000000000000000,1e+21,2.5,1.0]',
        );
        assert.equal(task.kwargs, '{"when":"2026-01-02T03:04:05.000Z","ratio":2.5}');
        assert.equal(task.headers, '{"x_f":3.0}');
        await assert.rejects(
          () =>
            prisma.periodicTask.schedule({ name, task: 't', interval: { every: 1, period: 'hours' }, args: [() => 1] }),
          (error: unknown) =>
            error instanceof ValidationError && /args\[0\]: a function cannot be sent as JSON/.test(error.message),
        );
      });

      test('reuses an identical schedule row, and updates a task by name', async () => {
        const crontab = { minute: '45', hour: '4', timezone: 'America/New_York' };
        const first = await prisma.periodicTask.schedule({ name: uniqueName('reuse'), task: 't', crontab });
        const name = uniqueName('reuse');
        const second = await prisma.periodicTask.schedule({ name, task: 't', crontab, args: [1] });
        assert.equal(second.crontabId, first.crontabId);
        assert.equal(await prisma.crontabSchedule.count({ where: { minute: '45', hour: '4' } }), 1);

        const updated = await prisma.periodicTask.schedule({
          name,
          task: 't2',
          interval: { every: 3, period: 'hours' },
        });
        assert.equal(updated.id, second.id);
        assert.equal(updated.task, 't2');
        assert.equal(updated.crontabId, null);
        assert.notEqual(updated.intervalId, null);
        assert.equal(updated.args, '[1]', 'fields not given keep their values');
      });

      test('a clocked task is one-off by default', async () => {
        const task = await prisma.periodicTask.schedule({
          name: uniqueName('once'),
          task: 't',
          clocked: { clockedTime: new Date('2031-06-01T12:00:00Z') },
        });
        assert.equal(task.oneOff, true);
        assert.notEqual(task.clockedId, null);
      });

      test('invalid input writes nothing', async () => {
        const name = uniqueName('invalid');
        const before = await countRows('django_celery_beat_intervalschedule');
        await assert.rejects(
          () =>
            prisma.periodicTask.schedule({
              name,
              task: 't',
              interval: { every: 0, period: 'seconds' },
              kwargs: { a: 1 },
            }),
          (error: unknown) => error instanceof ValidationError && /^interval\.every: 0 /.test(error.message),
        );
        await assert.rejects(
          () =>
            prisma.periodicTask.schedule({
              name,
              task: 't',
              interval: { every: 1, period: 'days' },
              crontab: {},
            }),
          { message: 'interval, crontab: only one schedule may be set' },
        );
        assert.equal(await countRows('django_celery_beat_intervalschedule'), before);
        assert.equal(await prisma.periodicTask.count({ where: { name } }), 0);
      });
    });
  });
}
