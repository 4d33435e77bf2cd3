// The schema heals or fails loudly (issue 14.5). Someone drops one of dbbeat's objects
// while beats run: a change trigger (new rows would never be picked up) or the change log
// itself (every writer's UPDATE fails). The beat notices, says what is missing, heals it
// when it may migrate, and otherwise steps down rather than hold the lease doing nothing;
// `dbbeat migrate` repairs what is missing and `dbbeat doctor` says what it checked.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';

import { killAllBeats } from '../support/beat-process.js';
import { PrivateRedis } from '../support/private-redis.js';
import { awaitSentPast, insertHealthyTasks, spawnBeatProcess } from './scenario.js';
import { createFaultDatabase, type FaultDatabase, insertTasks, randomIdBase, uniqueName } from './support.js';

const bin = fileURLToPath(new URL('../../bin/dbbeat.js', import.meta.url));
const run = promisify(execFile);

/** Runs a `dbbeat` command; resolves with its exit code and output (never rejects on exit codes). */
async function dbbeat(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
      env: { ...process.env, DATABASE_URL: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === 'number' ? failed.code : -1,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? '',
    };
  }
}

describe('schema drift', () => {
  let redisServer: PrivateRedis;
  let db: FaultDatabase;

  before(async () => {
    redisServer = await PrivateRedis.start();
  });

  after(async () => {
    await redisServer?.remove();
  });

  beforeEach(async () => {
    db = await createFaultDatabase();
  });

  afterEach(async () => {
    await killAllBeats();
    await db?.drop();
  });

  test(
    'dbbeat doctor: 0 when healthy, 1 naming a dropped trigger; dbbeat migrate repairs it',
    { timeout: 60_000 },
    async () => {
      const healthy = await dbbeat(['doctor', '--database-url', db.url]);
      assert.equal(healthy.code, 0, healthy.stdout + healthy.stderr);
      assert.match(healthy.stdout, /dbbeat_log_insert_delete/, 'it lists what it checked');
      assert.match(healthy.stdout, /dbbeat_change/);

      await db.pool.query('DROP TRIGGER dbbeat_log_insert_delete ON django_celery_beat_periodictask');
      await db.pool.query('DROP TABLE dbbeat_change');
      const sick = await dbbeat(['doctor', '--database-url', db.url]);
      assert.equal(sick.code, 1, sick.stdout + sick.stderr);
      assert.match(sick.stdout, /missing.*dbbeat_log_insert_delete|dbbeat_log_insert_delete.*missing/i);
      assert.match(sick.stdout, /missing.*table dbbeat_change|table dbbeat_change.*missing/i);

      const migrated = await dbbeat(['migrate', '--database-url', db.url]);
      assert.equal(migrated.code, 0, migrated.stdout + migrated.stderr);
      assert.match(migrated.stdout, /repaired/i, 'migrate says it repaired something, not "up to date"');
      assert.doesNotMatch(migrated.stdout, /up to date/);
      const again = await dbbeat(['doctor', '--database-url', db.url]);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      // The writers' statements work again.
      await db.pool.query(`UPDATE django_celery_beat_periodictasks SET last_update = now()`);
    },
  );

  test('a beat that may migrate heals a dropped trigger; new rows are picked up', { timeout: 90_000 }, async () => {
    const queue = uniqueName('fault_schema_heal');
    const beat = spawnBeatProcess({
      databaseUrl: db.url,
      brokerUrl: redisServer.url(0),
      migrate: true,
      extraArgs: ['--schema-check-interval', '1'],
    });
    await beat.waitForLine((line) => line.msg === 'became leader', 60_000);
    await insertHealthyTasks(db, queue, 2);
    await awaitSentPast(beat, Date.now() + 1000);
    const droppedAt = Date.now();
    await db.pool.query('DROP TRIGGER dbbeat_log_insert_delete ON django_celery_beat_periodictask');
    const drift = await beat.waitForLine(
      (line) => line.level >= 50 && /dbbeat_log_insert_delete/.test(line.msg) && Date.parse(line.time) >= droppedAt,
      15_000,
    );
    const healed = await beat.waitForLine(
      (line) => /repaired/.test(line.msg) && Date.parse(line.time) >= droppedAt,
      15_000,
    );
    const [late] = await insertTasks(db.pool, {
      idBase: randomIdBase(),
      count: 1,
      namePrefix: `${queue}_late`,
      queue,
      dateChanged: Math.floor(Date.now() / 1000) * 1000,
      schedule: () => 1,
    });
    await beat.waitForLine((line) => line.task === late!.name, 15_000);
    console.log(JSON.stringify({ schemaHeal: { drift: drift.msg, healed: healed.msg } }));
    assert.ok(beat.lines.some((line) => line.msg === 'became leader'));
    assert.equal((await beat.stop()).code, 0);
  });

  test(
    'a beat that may not migrate steps down when dbbeat_change is gone, and leads again once migrate repairs it',
    { timeout: 90_000 },
    async () => {
      const queue = uniqueName('fault_schema_loud');
      const beat = spawnBeatProcess({
        databaseUrl: db.url,
        brokerUrl: redisServer.url(0),
        extraArgs: ['--schema-check-interval', '1'],
      });
      await beat.waitForLine((line) => line.msg === 'became leader', 60_000);
      await insertHealthyTasks(db, queue, 2);
      await awaitSentPast(beat, Date.now() + 1000);
      const droppedAt = Date.now();
      await db.pool.query('DROP TABLE dbbeat_change');
      const drift = await beat.waitForLine(
        (line) => line.level >= 50 && /dbbeat_change/.test(line.msg) && Date.parse(line.time) >= droppedAt,
        15_000,
      );
      const down = await beat.waitForLine(
        (line) => /^stepped down/.test(line.msg) && Date.parse(line.time) >= droppedAt,
        15_000,
      );
      const { rows } = await db.pool.query<{ valid: boolean }>(`SELECT expires_at > now() AS valid FROM dbbeat_lease`);
      assert.equal(rows[0]?.valid, false, 'it let the lease go, so a healthy beat could take over');

      const linesBeforeRepair = beat.lines.length;
      const migrated = await dbbeat(['migrate', '--database-url', db.url]);
      assert.equal(migrated.code, 0, migrated.stdout + migrated.stderr);
      await beat.waitForLine((line) => line.msg === 'became leader', 20_000, linesBeforeRepair);
      await awaitSentPast(beat, Date.now() + 1000);
      console.log(
        JSON.stringify({ schemaLoud: { drift: drift.msg, down: down.msg, migrate: migrated.stdout.trim() } }),
      );
      assert.equal((await beat.stop()).code, 0);
    },
  );
});
