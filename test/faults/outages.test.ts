// Outages while a beat runs with tasks due every second: Redis crashes and comes back on
// the same port; PostgreSQL cuts every connection of the beat. The beat survives, logs
// and retries, and afterwards every run that fell due is on the queue once.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';

import { type BeatLogLine, type BeatProcess, killAllBeats, spawnBeat } from '../support/beat-process.js';
import { PrivateRedis } from '../support/private-redis.js';
import {
  auditRuns,
  createFaultDatabase,
  delay,
  describeAudit,
  type FaultDatabase,
  insertTasks,
  randomIdBase,
  readRedisRuns,
  Redis,
  type SentRun,
  type TaskSpec,
  uniqueName,
  waitUntil,
} from './support.js';

const TASKS = 20;

/** Why a beat is gone, for assertion messages. */
function deathOf(beat: BeatProcess): string {
  return `${JSON.stringify(beat.exitStatus)} ${beat.otherOutput
    .filter((text) => /Error/.test(text))
    .slice(0, 3)
    .join(' | ')}`;
}

function isSend(line: BeatLogLine): boolean {
  return typeof line.scheduled === 'string' && typeof line.id === 'string';
}

/** Waits until the beat has sent a run scheduled after `until` (runs go out in slot order). */
async function awaitSentPast(beat: BeatProcess, until: number, timeoutMs = 30_000): Promise<void> {
  await beat.waitForLine((line) => isSend(line) && Date.parse(String(line.scheduled)) > until, timeoutMs);
}

/** Inserts the tasks once the beat leads, so its start-up time shifts nothing. */
async function startLeaderWithTasks(
  db: FaultDatabase,
  brokerUrl: string,
  queue: string,
  maxInterval = 1,
): Promise<{ beat: BeatProcess; specs: TaskSpec[] }> {
  const beat = spawnBeat({ databaseUrl: db.url, brokerUrl, maxInterval });
  await beat.waitForLine((line) => line.msg === 'became leader', 60_000);
  const specs = await insertTasks(db.pool, {
    idBase: randomIdBase(),
    count: TASKS,
    namePrefix: queue,
    queue,
    dateChanged: Math.floor(Date.now() / 1000) * 1000,
    schedule: () => 1,
  });
  await awaitSentPast(beat, Date.now() + 1000);
  return { beat, specs };
}

function assertAllOnce(specs: readonly TaskSpec[], runs: readonly SentRun[], until: number): void {
  const audit = auditRuns(specs, runs, until);
  if (audit.missing.length > 0 || audit.unexpected.length > 0) console.log(describeAudit(audit, specs, runs));
  assert.deepEqual(
    audit.missing.slice(0, 20),
    [],
    `no slot missing (${audit.missing.length} missing of ${audit.expected})`,
  );
  assert.deepEqual(audit.unexpected.slice(0, 20), [], 'no run off the schedule');
  assert.equal(audit.duplicates, 0, 'no (task, slot) twice');
  assert.equal(audit.repeatedIds, 0, 'no task id twice');
}

describe('outages', () => {
  // One database per scenario: a beat loads every task of its database, and the tasks of
  // one scenario must not be sent to the other's broker.
  let db: FaultDatabase;

  beforeEach(async () => {
    db = await createFaultDatabase();
  });

  afterEach(async () => {
    await killAllBeats();
    await db?.drop();
  });

  describe('Redis crashes and restarts', () => {
    let redisServer: PrivateRedis;
    const queue = uniqueName('fault_redis_down');

    before(async () => {
      redisServer = await PrivateRedis.start({ durable: true }); // crashed and restarted below
    });

    after(async () => {
      await redisServer?.remove();
    });

    test('the beat waits it out and then sends every run that fell due, once', { timeout: 120_000 }, async () => {
      const { beat, specs } = await startLeaderWithTasks(db, redisServer.url(0), queue);
      await delay(2000);
      const crashedAt = Date.now();
      await redisServer.crash();
      // The beat notices (its publish fails) and says so, without exiting.
      await beat.waitForLine((line) => line.level >= 40 && Date.parse(line.time) >= crashedAt, 15_000, 0);
      await delay(Math.max(0, crashedAt + 5000 - Date.now()));
      assert.ok(beat.alive, `the beat is still running during the outage; it died: ${deathOf(beat)}`);
      await redisServer.restart();
      const restartedAt = Date.now();

      const until = Math.ceil(Date.now() / 1000) * 1000 + 2000;
      await awaitSentPast(beat, until);
      assert.ok(beat.alive, `the beat is still running after the outage; it died: ${deathOf(beat)}`);
      const errors = beat.lines.filter((line) => line.level >= 50 && Date.parse(line.time) >= crashedAt);
      const exit = await beat.stop();
      assert.equal(exit.code, 0, 'stops cleanly on SIGTERM');

      const client = new Redis(redisServer.url(0));
      try {
        const runs = await readRedisRuns(client, queue);
        const late = runs.filter((run) => run.slot > crashedAt && run.slot < restartedAt).length;
        console.log(
          JSON.stringify({
            redisOutage: {
              outageMs: restartedAt - crashedAt,
              errorLines: errors.length,
              runsDueDuringOutage: late,
              sent: runs.length,
            },
          }),
        );
        assert.ok(errors.length > 0, 'the failed publishes are logged as errors');
        assert.ok(late >= TASKS * 4, 'the runs that fell due during the outage were sent after it');
        assertAllOnce(specs, runs, until);
      } finally {
        client.disconnect();
      }
    });
  });

  describe('PostgreSQL cuts the beat’s connections', () => {
    let redisServer: PrivateRedis;
    let redis: Redis;
    const queue = uniqueName('fault_pg_cut');

    before(async () => {
      redisServer = await PrivateRedis.start();
      redis = new Redis(redisServer.url(), { lazyConnect: true });
    });

    after(async () => {
      redis?.disconnect();
      await redisServer?.remove();
    });

    test('the beat reconnects (its LISTEN too), loses and repeats nothing', { timeout: 120_000 }, async () => {
      await redis.connect();
      // A long max-interval, so a task inserted later is picked up quickly only through LISTEN/NOTIFY.
      const { beat, specs } = await startLeaderWithTasks(db, redisServer.url(), queue, 30);
      const terminate = async () => {
        const { rows } = await db.pool.query<{ terminated: boolean }>(
          'SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [db.temp.name],
        );
        return rows.filter((row) => row.terminated).length;
      };
      let cut = 0;
      for (let round = 0; round < 4; round += 1) {
        cut += await terminate();
        await delay(1500 + round * 300); // land in different phases of the beat's second
      }
      assert.ok(beat.alive, `the beat survived the cuts; it died: ${deathOf(beat)}`);
      // Wait until the beat's listener is back (an idle connection whose last statement was LISTEN).
      await waitUntil(
        'the beat to LISTEN again',
        async () => {
          const { rows } = await db.pool.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND query ILIKE 'LISTEN%'",
            [db.temp.name],
          );
          return rows[0]!.n > 0 ? true : undefined;
        },
        15_000,
      );
      const insertedAt = Date.now();
      const [added] = await insertTasks(db.pool, {
        idBase: randomIdBase(),
        count: 1,
        namePrefix: `${queue}_added`,
        queue,
        dateChanged: Math.floor(insertedAt / 1000) * 1000,
        schedule: () => 1,
      });
      const firstOfAdded = await beat.waitForLine((line) => line.task === added!.name, 10_000);
      const pickupMs = Date.parse(firstOfAdded.time) - insertedAt;

      const until = Math.ceil(Date.now() / 1000) * 1000 + 2000;
      await awaitSentPast(beat, until);
      assert.ok(beat.alive, 'the beat survived the cuts');
      const exit = await beat.stop();
      assert.equal(exit.code, 0, 'stops cleanly on SIGTERM');
      const runs = await readRedisRuns(redis, queue);
      const errors = beat.lines.filter((line) => line.level >= 50).length;
      console.log(
        JSON.stringify({
          postgresCuts: {
            backendsTerminated: cut,
            errorLines: errors,
            insertedTaskPickupMs: pickupMs,
            sent: runs.length,
          },
        }),
      );
      assert.ok(cut >= 4, 'connections were cut');
      assert.ok(
        pickupMs < 5000,
        `a task inserted after the cuts is sent within 5 s (max-interval is 30 s): ${pickupMs} ms`,
      );
      assertAllOnce([...specs, added!], runs, until);
    });
  });
});
