// SIGTERM while a batch is in flight (README, Commands: "SIGINT/SIGTERM finish the batch in
// flight, record it, release the leadership and exit 0"), with a beat child process:
// - with the record held up by a row lock the test holds, the beat waits for it, records
//   the run and exits 0 once the lock goes;
// - with thousands of runs due at once, a stop in the middle of sending leaves the database
//   recording exactly what the broker got.
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, test } from 'node:test';

import pg from 'pg';

import { type BeatProcess, killAllBeats, spawnBeat } from '../support/beat-process.js';
import { createMigratedDatabase, holdRowLock, type TempDatabase } from '../support/postgres.js';
import { PrivateRedis } from '../support/private-redis.js';
import { insertTask } from '../support/rows.js';
import { insertTasks, randomIdBase, readRedisRuns, Redis, uniqueName } from '../faults/support.js';

const HOUR_MS = 3_600_000;
const redisServer = await PrivateRedis.start(); // this file's own
after(() => redisServer.remove());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SIGTERM with a batch in flight', () => {
  let temp: TempDatabase;
  let pool: pg.Pool;
  let redis: Redis;
  let beat: BeatProcess | undefined;

  beforeEach(async () => {
    temp = await createMigratedDatabase();
    pool = new pg.Pool({ connectionString: temp.url, max: 2 });
    redis = new Redis(redisServer.url());
  });

  afterEach(async () => {
    await killAllBeats();
    redis?.disconnect();
    await pool?.end();
    await temp?.drop();
  });

  test(
    'the beat waits for the record of a sent run, records it, releases the lease and exits 0',
    { timeout: 60_000 },
    async () => {
      const queue = uniqueName('stop_lock');
      beat = spawnBeat({ databaseUrl: temp.url, brokerUrl: redisServer.url() });
      await beat.waitForLine((line) => line.msg.startsWith('beat ready'), 30_000);
      const name = uniqueName('stop');
      const lastRunAt = new Date(Date.now() - HOUR_MS + 2000);
      const id = await insertTask(pool, {
        name,
        schedule: { interval: { every: 1, period: 'hours' } },
        queue,
        lastRunAt,
      });
      const lock = await holdRowLock(temp.url, 'django_celery_beat_periodictask', id);
      try {
        const sent = await beat.waitForLine((line) => line.task === name && typeof line.id === 'string', 15_000);
        beat.child.kill('SIGTERM');
        await sleep(1500);
        assert.ok(beat.alive, 'the beat does not exit while the run it sent is not recorded');
        await lock.release();
        const exit = await Promise.race([beat.exited, sleep(15_000).then(() => 'still running')]);
        assert.deepEqual(exit, { code: 0, signal: null }, 'exits 0 once the run is recorded');
        const { rows } = await pool.query<{ last_run_at: Date; total_run_count: number }>(
          'SELECT last_run_at, total_run_count FROM django_celery_beat_periodictask WHERE id = $1',
          [id],
        );
        assert.equal(rows[0]!.total_run_count, 1, 'the run in flight is recorded');
        assert.equal(rows[0]!.last_run_at.toISOString(), sent.scheduled);
        const lease = await pool.query<{ released: boolean }>(
          'SELECT expires_at <= now() AS released FROM dbbeat_lease',
        );
        assert.equal(lease.rows[0]?.released, true, 'the lease is given up');
        assert.equal((await readRedisRuns(redis, queue)).length, 1);
      } finally {
        await lock.release();
      }
    },
  );

  test(
    'stopped while thousands of due runs go out, the beat records exactly what the broker got',
    { timeout: 120_000 },
    async () => {
      const queue = uniqueName('stop_batch');
      const count = 4000;
      beat = spawnBeat({ databaseUrl: temp.url, brokerUrl: redisServer.url(), extraArgs: ['--batch-size', '500'] });
      await beat.waitForLine((line) => line.msg.startsWith('beat ready'), 30_000);
      // All due at one whole second, 3 s from now: interval tasks saved an hour before it.
      const dueAt = Math.ceil(Date.now() / 1000) * 1000 + 3000;
      await insertTasks(pool, {
        idBase: randomIdBase(),
        count,
        namePrefix: queue,
        queue,
        dateChanged: dueAt - HOUR_MS,
        schedule: () => 3600,
      });
      await beat.waitForLine((line) => typeof line.task === 'string' && line.task.startsWith(queue), 30_000);
      beat.child.kill('SIGTERM');
      const exit = await beat.exited;
      assert.deepEqual(exit, { code: 0, signal: null });

      const runs = await readRedisRuns(redis, queue);
      const { rows } = await pool.query<{ name: string; last_run_at: Date | null; total_run_count: number }>(
        'SELECT name, last_run_at, total_run_count FROM django_celery_beat_periodictask WHERE name LIKE $1',
        [`${queue}%`],
      );
      const sentNames = new Set(runs.map((run) => run.name));
      const wrong = rows.filter((row) =>
        sentNames.has(row.name)
          ? row.total_run_count !== 1 || row.last_run_at?.getTime() !== dueAt
          : row.total_run_count !== 0 || row.last_run_at !== null,
      );
      console.log(JSON.stringify({ stopMidBatch: { due: count, sentBeforeExit: runs.length } }));
      assert.equal(runs.length, sentNames.size, 'no run twice');
      assert.ok(runs.length > 0, 'the stop came while runs were going out');
      assert.deepEqual(
        wrong
          .slice(0, 10)
          .map((row) => `${row.name}: ${row.total_run_count} runs, last ${row.last_run_at?.toISOString()}`),
        [],
        `recorded exactly the runs the broker got (${wrong.length} rows differ)`,
      );
    },
  );
});
