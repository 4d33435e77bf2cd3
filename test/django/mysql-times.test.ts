// MySQL's DATETIME has no zone. Django with USE_TZ = True stores UTC there; with
// USE_TZ = False, wall time in TIME_ZONE. dbbeat reads and writes them in the zone that
// --db-timezone names (default UTC), checked here against Django's own reads and writes
// of the same rows, in both modes, with TIME_ZONE = Asia/Shanghai (UTC+8).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { MysqlDatabase } from '../../src/db/mysql/connection.js';
import { MysqlStore } from '../../src/db/mysql/store.js';
import { PrismaClient } from '../../src/generated/prisma-mysql/client.js';
import { migrate } from '../../src/db/migrate.js';
import { createTempMysqlDatabase, type TempMysqlDatabase } from '../support/mysql.js';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));

interface DjangoTimes {
  clocked_time: string;
  last_run_at: string | null;
  start_time: string | null;
  total_run_count: number;
}

function djangoIn(url: string, useTz: boolean) {
  const env = {
    ...process.env,
    DBBEAT_DJANGO_DATABASE_URL: url,
    DJANGO_SETTINGS_MODULE: 'dbbeat_django_mysql_settings',
    DBBEAT_DJANGO_USE_TZ: useTz ? '1' : '0',
    DBBEAT_DJANGO_TIME_ZONE: 'Asia/Shanghai',
    PYTHONPATH: here,
  };
  return async <T>(...args: string[]): Promise<T> => {
    const { stdout } = await run('/usr/bin/python3', [`${here}/django_times.py`, ...args], { env, timeout: 60_000 });
    return JSON.parse(stdout) as T;
  };
}

const at2115Shanghai = Date.parse('2026-12-01T13:15:00Z');

for (const mode of [
  {
    useTz: false,
    dbTimeZone: 'Asia/Shanghai',
    stored: '2026-12-01 21:15:00.000000',
    djangoReads: '2026-12-01T21:15:00',
  },
  { useTz: true, dbTimeZone: 'UTC', stored: '2026-12-01 13:15:00.000000', djangoReads: '2026-12-01T13:15:00+00:00' },
]) {
  describe(`MySQL naive times: Django USE_TZ = ${mode.useTz ? 'True' : 'False'}, TIME_ZONE = Asia/Shanghai, --db-timezone ${mode.dbTimeZone}`, () => {
    let temp: TempMysqlDatabase;
    let db: MysqlDatabase;
    let store: MysqlStore;
    let prisma: PrismaClient;
    const django = <T>(...args: string[]) => djangoIn(temp.url, mode.useTz)<T>(...args);
    let taskId: number;

    before(async () => {
      temp = await createTempMysqlDatabase('dbbeat_mysql_tz');
      db = new MysqlDatabase({ url: temp.url, dbTimeZone: mode.dbTimeZone });
      await migrate(db);
      store = new MysqlStore(db);
      prisma = new PrismaClient({ adapter: db.prismaAdapter() });
      ({ id: taskId } = await django<{ id: number }>('save', 'launch', '2026-12-01 21:15:00'));
    });
    after(async () => {
      await prisma.$disconnect();
      await db.close();
      await temp.drop();
    });

    test('a clocked task Django saved at 21:15 Shanghai time is read by dbbeat as 13:15Z', async () => {
      const [stored] = await db.query<{ clocked_time: string }>(
        'SELECT clocked_time FROM django_celery_beat_clockedschedule',
      );
      assert.equal(stored?.clocked_time, mode.stored);
      const [row] = await store.loadByIds([taskId]);
      assert.equal(row?.k_clocked_time, at2115Shanghai);
      assert.equal(row?.start_time, at2115Shanghai);
      const viaPrisma = await prisma.periodicTask.findUniqueOrThrow({
        where: { id: taskId },
        include: { clocked: true },
      });
      assert.equal(viaPrisma.clocked?.clockedTime.toISOString(), '2026-12-01T13:15:00.000Z');
      assert.equal(viaPrisma.startTime?.toISOString(), '2026-12-01T13:15:00.000Z');
    });

    test("the run dbbeat records at 13:15Z is Django's 21:15 Shanghai time", async () => {
      const lease = await store.acquireLease('tz-test', 'me', 5);
      const outcome = await store.recordRuns([{ id: taskId, lastRunAt: at2115Shanghai, runs: 1, disable: true }], {
        name: 'tz-test',
        token: lease!.token,
      });
      assert.deepEqual(outcome, { held: true, written: [taskId], locked: [] });
      const seen = await django<DjangoTimes>('read', 'launch');
      assert.equal(seen.last_run_at, mode.djangoReads);
      assert.equal(seen.total_run_count, 1);
    });

    test('a time written through the Prisma client is the same instant for Django', async () => {
      await prisma.periodicTask.update({
        where: { id: taskId },
        data: { startTime: new Date('2026-12-01T14:00:00Z') },
      });
      const seen = await django<DjangoTimes>('read', 'launch');
      assert.equal(seen.start_time, mode.useTz ? '2026-12-01T14:00:00+00:00' : '2026-12-01T22:00:00');
    });
  });
}
