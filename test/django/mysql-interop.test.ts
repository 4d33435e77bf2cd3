// dbbeat and django-celery-beat on one MariaDB/MySQL database, both ways round, with the
// real Django (Debian's python3-django-celery-beat and python3-mysqldb):
// (a) Django's `migrate` makes the tables, `dbbeat migrate` adopts them and keeps the rows;
// (b) `dbbeat migrate` makes them, exactly as Django would (SHOW CREATE TABLE), and
//     Django's plain `migrate` then has nothing to do; its ORM writes and reads every kind.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { MysqlDatabase } from '../../src/db/mysql/connection.js';
import { migrate } from '../../src/db/migrate.js';
import { createTempMysqlDatabase, type TempMysqlDatabase } from '../support/mysql.js';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));
const PYTHON = '/usr/bin/python3';

function djangoEnv(url: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DBBEAT_DJANGO_DATABASE_URL: url,
    DJANGO_SETTINGS_MODULE: 'dbbeat_django_mysql_settings',
    PYTHONPATH: here,
  };
}

async function manage(url: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(PYTHON, ['-m', 'django', ...args], { env: djangoEnv(url), timeout: 120_000 });
  return stdout;
}

interface DjangoTask {
  id: number;
  name: string;
  args: string;
  kwargs: string;
  enabled: boolean;
  schedule_type: string;
  schedule_id: number;
}

async function django(url: string, ...args: string[]): Promise<DjangoTask[]> {
  const { stdout } = await run(PYTHON, [`${here}/django_interop.py`, ...args], {
    env: djangoEnv(url),
    timeout: 60_000,
  });
  return JSON.parse(stdout) as DjangoTask[];
}

/** SHOW CREATE TABLE of every django_* table, AUTO_INCREMENT counters left out. */
async function djangoTables(db: MysqlDatabase): Promise<string> {
  const tables = await db.query<Record<string, string>>("SHOW TABLES LIKE 'django%'");
  const out: string[] = [];
  for (const row of tables) {
    const name = Object.values(row)[0]!;
    const [created] = await db.query<{ 'Create Table': string }>(`SHOW CREATE TABLE \`${name}\``);
    out.push(created!['Create Table'].replace(/ AUTO_INCREMENT=\d+/, ''));
  }
  return out.sort().join('\n');
}

async function appliedDjangoMigrations(db: MysqlDatabase): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    "SELECT name FROM django_migrations WHERE app = 'django_celery_beat' ORDER BY id",
  );
  return rows.map((row) => row.name);
}

describe("MySQL: a database made by Django's migrate, adopted by dbbeat migrate", () => {
  let temp: TempMysqlDatabase;
  let db: MysqlDatabase;
  let seeded: DjangoTask[];
  let djangoMade: string;
  let djangoHistory: string[];
  const prefix = `my-${randomBytes(3).toString('hex')}`;

  before(async () => {
    temp = await createTempMysqlDatabase('dbbeat_mysql_django');
    db = new MysqlDatabase({ url: temp.url });
    await manage(temp.url, 'migrate', '--noinput');
    seeded = await django(temp.url, 'seed', prefix);
    djangoMade = await djangoTables(db);
    djangoHistory = await appliedDjangoMigrations(db);
  });
  after(async () => {
    await db.close();
    await temp.drop();
  });

  test("dbbeat migrate keeps Django's tables, rows and migration history, and adds its own", async () => {
    const { applied } = await migrate(db);
    assert.deepEqual(applied, [
      '0001_django_celery_beat_tables.sql',
      '0002_dbbeat_tables.sql',
      '0003_change_triggers.sql',
      '0004_django_migrations.sql',
      '0005_django_bookkeeping_is_not_a_change.sql',
      '0006_dbbeat_beat.sql',
      '0007_dbbeat_run.sql',
    ]);
    assert.equal(await djangoTables(db), djangoMade);
    assert.deepEqual(await appliedDjangoMigrations(db), djangoHistory);
    const rows = await db.query<{ id: number; name: string }>(
      'SELECT id, name FROM django_celery_beat_periodictask ORDER BY id',
    );
    assert.deepEqual(
      rows,
      seeded.map((task) => ({ id: task.id, name: task.name })),
    );
    assert.deepEqual((await migrate(db)).applied, []);
  });

  test("Django's writes after the adoption are logged by the triggers, and Django still reads its rows", async () => {
    const [{ top }] = (await db.query<{ top: number }>('SELECT COALESCE(MAX(id), 0) AS top FROM dbbeat_change')) as [
      { top: number },
    ];
    const created = await django(temp.url, 'create_all', `${prefix}-more`);
    const logged = await db.query<{ table_name: string; op: string }>(
      'SELECT table_name, op FROM dbbeat_change WHERE id > ? ORDER BY id',
      [top],
    );
    const inserted = logged.filter(
      (row) => row.table_name === 'django_celery_beat_periodictask' && row.op === 'INSERT',
    );
    assert.equal(inserted.length, created.length);
    const reread = await django(temp.url, 'read', ...seeded.map((task) => task.name));
    const byName = (tasks: DjangoTask[]) => Object.fromEntries(tasks.map((task) => [task.name, task.args]));
    assert.deepEqual(byName(reread), byName(seeded));
  });
});

describe('MySQL: a database made by `dbbeat migrate` alone, used by Django', () => {
  let temp: TempMysqlDatabase;
  let reference: TempMysqlDatabase;
  let db: MysqlDatabase;
  let referenceDb: MysqlDatabase;
  const prefix = `my-${randomBytes(3).toString('hex')}`;

  before(async () => {
    temp = await createTempMysqlDatabase('dbbeat_mysql_first');
    reference = await createTempMysqlDatabase('dbbeat_mysql_ref');
    db = new MysqlDatabase({ url: temp.url });
    referenceDb = new MysqlDatabase({ url: reference.url });
    await migrate(db);
    await manage(reference.url, 'migrate', '--noinput');
  });
  after(async () => {
    await db.close();
    await referenceDb.close();
    await temp.drop();
    await reference.drop();
  });

  test("its django_celery_beat tables are exactly Django's (SHOW CREATE TABLE)", async () => {
    assert.equal(await djangoTables(db), await djangoTables(referenceDb));
  });

  test("Django's plain migrate then has nothing to do, and sees no model change", async () => {
    assert.match(await manage(temp.url, 'migrate', '--noinput'), /No migrations to apply/);
    assert.match(
      await manage(temp.url, 'makemigrations', '--check', '--dry-run', 'django_celery_beat'),
      /No changes detected/,
    );
    // Every migration Django knows is recorded (ours lists a few later releases' as well).
    const known = await appliedDjangoMigrations(referenceDb);
    const recorded = await appliedDjangoMigrations(db);
    assert.deepEqual(recorded.slice(0, known.length), known);
  });

  test("Django's ORM writes and reads a task of each schedule kind; a schedule's delete takes its tasks", async () => {
    const created = await django(temp.url, 'create_all', prefix);
    assert.deepEqual(
      created.map((task) => task.schedule_type),
      ['IntervalSchedule', 'CrontabSchedule', 'SolarSchedule', 'ClockedSchedule'],
    );
    const reread = await django(temp.url, 'read', ...created.map((task) => task.name));
    assert.equal(reread.length, 4);
    const clocked = created[3]!;
    await db.execute('DELETE FROM django_celery_beat_clockedschedule WHERE id = ?', [clocked.schedule_id]);
    assert.deepEqual(await db.query('SELECT id FROM django_celery_beat_periodictask WHERE id = ?', [clocked.id]), []);
  });
});
