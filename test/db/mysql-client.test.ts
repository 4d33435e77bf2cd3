// dbbeat's Prisma client on MariaDB: createClient picks the client generated for MySQL,
// writes are validated and tracked by the triggers, schedule() and PeriodicTasks.changed()
// work, and times are read back as written.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { migrate } from '../../src/db/migrate.js';
import { openDatabase, type OpenDatabase } from '../../src/db/open.js';
import { createClient, type DbbeatClient, ValidationError } from '../../src/model/client.js';
import { createTempMysqlDatabase, type TempMysqlDatabase } from '../support/mysql.js';

describe('the Prisma client on MariaDB', () => {
  let temp: TempMysqlDatabase;
  let db: OpenDatabase;
  let prisma: DbbeatClient;

  before(async () => {
    temp = await createTempMysqlDatabase('dbbeat_mysql_client');
    db = await openDatabase({ databaseUrl: temp.url });
    await migrate(db);
    prisma = createClient(db);
  });
  after(async () => {
    await prisma.$disconnect();
    await db.close();
    await temp.drop();
  });

  test('schedule() creates the schedule row and the task; the triggers log both', async () => {
    const task = await prisma.periodicTask.schedule({
      name: 'every-10s',
      task: 'proj.tasks.add',
      interval: { every: 10, period: 'seconds' },
      args: [2, 3],
    });
    assert.equal(task.args, '[2,3]');
    const logged = await db.query<{ table_name: string; row_id: number; op: string }>(
      'SELECT table_name, row_id, op FROM dbbeat_change ORDER BY id',
    );
    assert.deepEqual(
      logged.map((row) => [row.table_name, row.op]),
      [
        ['django_celery_beat_intervalschedule', 'INSERT'],
        ['django_celery_beat_periodictask', 'INSERT'],
      ],
    );
    const again = await prisma.periodicTask.schedule({
      name: 'every-10s',
      task: 'proj.tasks.add',
      interval: { every: 10, period: 'seconds' },
      args: [4],
    });
    assert.equal(again.id, task.id);
    assert.equal(again.args, '[4]');
  });

  test('a bad crontab is refused before it reaches the database, naming the field', async () => {
    await assert.rejects(
      prisma.crontabSchedule.create({ data: { minute: '61', timezone: 'UTC' } }),
      (error: unknown) => error instanceof ValidationError && /minute/.test(error.message),
    );
  });

  test('PeriodicTasks.changed() moves last_update forward and lastChange() reads it', async () => {
    const first = await prisma.periodicTasks.changed();
    const second = await prisma.periodicTasks.changed();
    assert.ok(second.getTime() >= first.getTime());
    assert.equal((await prisma.periodicTasks.lastChange())?.getTime(), second.getTime());
  });

  test('times written through the client read back as the same instants', async () => {
    const at = new Date('2026-11-01T05:30:00.123Z');
    const task = await prisma.periodicTask.schedule({
      name: 'clocked',
      task: 'proj.tasks.launch',
      clocked: { clockedTime: at },
      oneOff: true,
    });
    const read = await prisma.periodicTask.findUniqueOrThrow({ where: { id: task.id }, include: { clocked: true } });
    assert.equal(read.clocked?.clockedTime.toISOString(), at.toISOString());
  });
});
