// dbbeat and django-celery-beat on one database, both ways round:
// (a) Django creates the tables, `dbbeat migrate` adopts them, Prisma reads and edits
//     Django's rows and Django sees the edits;
// (b) `dbbeat migrate` creates the tables, Django's ORM writes every schedule type, and
//     Prisma reads what it wrote.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { DJANGO_CELERY_BEAT_MIGRATIONS } from '../../src/db/django-migrations.js';
import { PrismaClient } from '../../src/generated/prisma/client.js';
import { openDatabase, type OpenDatabase } from '../../src/db/open.js';
import { createTempDatabase, type TempDatabase } from '../support/postgres.js';
import { describeSchema } from '../schema/schema-listing.js';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));
const dbbeatBin = fileURLToPath(new URL('../../bin/dbbeat.js', import.meta.url));
const PYTHON = '/usr/bin/python3';

interface DjangoTask {
  id: number;
  name: string;
  task: string;
  args: string;
  kwargs: string;
  enabled: boolean;
  one_off: boolean;
  schedule_type: string;
  schedule_id: number;
  timezone: string | null;
}

function djangoEnv(url: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DBBEAT_DJANGO_DATABASE_URL: url,
    DJANGO_SETTINGS_MODULE: 'dbbeat_django_settings',
    PYTHONPATH: here,
  };
}

async function djangoMigrate(url: string): Promise<void> {
  await run(PYTHON, ['-m', 'django', 'migrate', '--no-input'], { env: djangoEnv(url), cwd: here, timeout: 120_000 });
}

async function django(url: string, ...args: string[]): Promise<DjangoTask[]> {
  const { stdout } = await run(PYTHON, [`${here}/django_interop.py`, ...args], {
    env: djangoEnv(url),
    timeout: 60_000,
  });
  return JSON.parse(stdout) as DjangoTask[];
}

async function committedSchema(): Promise<string> {
  const text = await readFile(new URL('../fixtures/schema.sql', import.meta.url), 'utf8');
  return text
    .split('\n')
    .filter((line) => !line.startsWith('--'))
    .join('\n');
}

describe('a database made by Django, adopted by `dbbeat migrate`', () => {
  let temp: TempDatabase;
  let db: OpenDatabase;
  let prisma: PrismaClient;
  let seeded: DjangoTask[];
  const prefix = `adopt-${randomBytes(3).toString('hex')}`;

  before(async () => {
    temp = await createTempDatabase('dbbeat_django_adopt');
    await djangoMigrate(temp.url);
    seeded = await django(temp.url, 'seed', prefix);
    db = await openDatabase({ databaseUrl: temp.url });
    prisma = new PrismaClient({ adapter: db.prismaAdapter() });
  });
  after(async () => {
    await prisma.$disconnect();
    await db.close();
    await temp.drop();
  });

  test('`dbbeat migrate` applies its files and keeps every row Django wrote', async () => {
    const before = await db.query('SELECT * FROM django_celery_beat_periodictask ORDER BY id');
    const history = await db.query('SELECT * FROM django_migrations ORDER BY id');
    // Django applies the installed version's migrations in the order our list records them.
    assert.deepEqual(
      history.map((row) => (row as { name: string }).name),
      DJANGO_CELERY_BEAT_MIGRATIONS.slice(0, history.length),
    );
    const { stdout } = await run(process.execPath, [dbbeatBin, 'migrate', '--database-url', temp.url], {
      timeout: 60_000,
    });
    assert.match(stdout, /applied \d+ migration\(s\)/);
    assert.deepEqual(await db.query('SELECT * FROM django_celery_beat_periodictask ORDER BY id'), before);
    assert.deepEqual(
      await db.query('SELECT * FROM django_migrations ORDER BY id'),
      history,
      "Django's history is left as it is",
    );
    await djangoMigrate(temp.url);
    const { stdout: again } = await run(process.execPath, [dbbeatBin, 'migrate', '--database-url', temp.url], {
      timeout: 60_000,
    });
    assert.match(again, /up to date/);
  });

  test("the adopted schema is exactly the one dbbeat creates (Django's DDL = migration 0001)", async () => {
    assert.equal(await describeSchema(db), await committedSchema());
  });

  test("Prisma reads Django's rows and its edits are tracked and seen by Django", async () => {
    const interval = await prisma.periodicTask.findUniqueOrThrow({
      where: { name: `${prefix}-interval` },
      include: { interval: true },
    });
    assert.equal(interval.args, '[2, 2]');
    assert.deepEqual(
      { every: interval.interval?.every, period: interval.interval?.period },
      { every: 10, period: 'seconds' },
    );
    const crontab = await prisma.periodicTask.findUniqueOrThrow({
      where: { name: `${prefix}-crontab` },
      include: { crontab: true },
    });
    assert.equal(crontab.crontab?.timezone, 'America/New_York');
    assert.equal(crontab.id, seeded[1]!.id);

    const [lastChange] = await db.query<{ id: string }>('SELECT coalesce(max(id), 0)::text AS id FROM dbbeat_change');
    await prisma.periodicTask.update({ where: { id: interval.id }, data: { args: '[3, 4]', enabled: false } });
    const changes = await db.query<{ row_id: number; op: string }>(
      'SELECT row_id, op FROM dbbeat_change WHERE id > $1',
      [lastChange!.id],
    );
    assert.deepEqual(changes, [{ row_id: interval.id, op: 'UPDATE' }]);

    const [seenByDjango] = await django(temp.url, 'read', `${prefix}-interval`);
    assert.equal(seenByDjango?.args, '[3, 4]');
    assert.equal(seenByDjango?.enabled, false);
  });
});

describe('a database made by `dbbeat migrate` alone, used by Django', () => {
  let temp: TempDatabase;
  let db: OpenDatabase;
  let prisma: PrismaClient;
  const prefix = `orm-${randomBytes(3).toString('hex')}`;

  before(async () => {
    temp = await createTempDatabase('dbbeat_django_orm');
    await run(process.execPath, [dbbeatBin, 'migrate', '--database-url', temp.url], { timeout: 60_000 });
    db = await openDatabase({ databaseUrl: temp.url });
    prisma = new PrismaClient({ adapter: db.prismaAdapter() });
  });
  after(async () => {
    await prisma.$disconnect();
    await db.close();
    await temp.drop();
  });

  test("Django's plain `migrate` has nothing to do: every migration it knows is recorded as applied", async () => {
    const names = async (): Promise<string[]> =>
      (
        await db.query<{ name: string }>(
          "SELECT name FROM django_migrations WHERE app = 'django_celery_beat' ORDER BY id",
        )
      ).map((row) => row.name);
    assert.deepEqual(await names(), DJANGO_CELERY_BEAT_MIGRATIONS);
    const { stdout } = await run(PYTHON, ['-m', 'django', 'migrate', '--no-input'], {
      env: djangoEnv(temp.url),
      cwd: here,
      timeout: 120_000,
    });
    assert.match(stdout, /No migrations to apply/);
    const { stdout: shown } = await run(PYTHON, ['-m', 'django', 'showmigrations', 'django_celery_beat'], {
      env: djangoEnv(temp.url),
      cwd: here,
      timeout: 120_000,
    });
    assert.doesNotMatch(shown, /\[ \]/, shown);
    assert.deepEqual(await names(), DJANGO_CELERY_BEAT_MIGRATIONS, 'nothing recorded twice');
    // The schema is still exactly dbbeat's: Django changed nothing.
    assert.equal(await describeSchema(db), await committedSchema());
  });

  test("Django's ORM creates and reads a task of each schedule type, and Prisma sees them", async () => {
    const created = await django(temp.url, 'create_all', prefix);
    assert.deepEqual(
      created.map((task) => task.schedule_type),
      ['IntervalSchedule', 'CrontabSchedule', 'SolarSchedule', 'ClockedSchedule'],
    );
    const reread = await django(temp.url, 'read', ...created.map((task) => task.name));
    assert.equal(reread.length, 4);

    const tasks = await prisma.periodicTask.findMany({
      where: { name: { startsWith: prefix } },
      include: { interval: true, crontab: true, solar: true, clocked: true },
      orderBy: { id: 'asc' },
    });
    assert.deepEqual(
      tasks.map((task) => task.name),
      created.map((task) => task.name),
    );
    const [interval, crontab, solar, clocked] = tasks;
    assert.deepEqual(
      { every: interval!.interval?.every, period: interval!.interval?.period },
      { every: 1, period: 'minutes' },
    );
    assert.equal(crontab!.crontab?.timezone, 'Europe/Paris');
    assert.equal(crontab!.crontab?.dayOfWeek, 'mon-fri');
    assert.equal(crontab!.args, '["weekly"]');
    assert.equal(solar!.solar?.event, 'sunrise');
    assert.equal(solar!.solar?.latitude.toString(), '48.8566');
    assert.equal(solar!.solar?.longitude.toString(), '2.3522');
    assert.equal(clocked!.oneOff, true);
    assert.ok(clocked!.clocked!.clockedTime.getTime() > Date.now());
    assert.equal(clocked!.kwargs, '{"rocket": 1}');
    // Django's defaults for the columns it filled in.
    assert.deepEqual(
      tasks.map((task) => [task.enabled, task.totalRunCount, task.headers, task.description]),
      Array(4).fill([true, 0, '{}', '']),
    );
  });

  test('a task created through Prisma is read by Django', async () => {
    const every = await prisma.intervalSchedule.create({ data: { every: 30, period: 'seconds' } });
    await prisma.periodicTask.create({
      data: { name: `${prefix}-from-prisma`, task: 'proj.tasks.ping', intervalId: every.id, args: '[1]' },
    });
    const [seen] = await django(temp.url, 'read', `${prefix}-from-prisma`);
    assert.equal(seen?.schedule_type, 'IntervalSchedule');
    assert.equal(seen?.schedule_id, every.id);
    assert.equal(seen?.args, '[1]');
  });
});
