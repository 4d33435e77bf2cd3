// Kill the leader ten times while tasks fall due, with RabbitMQ as the broker. RabbitMQ
// cannot refuse a re-send, so the documented guarantee is at least once: no slot missing,
// and any duplicate carries the same task id as its original, so consumers can dedupe.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { killAllBeats } from '../support/beat-process.js';
import { runKillScenario } from './kill-leader.js';
import {
  auditRuns,
  createFaultDatabase,
  deleteAmqpQueue,
  describeAudit,
  drainAmqpQueue,
  type FaultDatabase,
  insertTasks,
  randomIdBase,
  summarize,
  type TaskSpec,
  uniqueName,
} from './support.js';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672//';
const INTERVAL_TASKS = 100;
const CRONTAB_TASKS = 10;
const KILLS = 10;

describe('kill the leader, RabbitMQ', () => {
  let db: FaultDatabase;
  const queue = uniqueName('fault_amqp');

  before(async () => {
    db = await createFaultDatabase();
  });

  after(async () => {
    await killAllBeats();
    await deleteAmqpQueue(AMQP_URL, queue).catch(() => undefined);
    await db?.drop();
  });

  test(
    `${KILLS} leader kills: every run at least once, repeats with the same task id`,
    { timeout: 240_000 },
    async () => {
      let specs: TaskSpec[] = [];
      const result = await runKillScenario({
        onFirstLeader: async () => {
          specs = await insertTasks(db.pool, {
            idBase: randomIdBase(),
            count: INTERVAL_TASKS + CRONTAB_TASKS,
            namePrefix: queue,
            queue,
            dateChanged: Math.floor(Date.now() / 1000) * 1000,
            schedule: (index) => (index < CRONTAB_TASKS ? 'every-minute' : 2 + (index % 4)),
          });
        },
        pool: db.pool,
        databaseUrl: db.url,
        brokerUrl: AMQP_URL,
        processes: 2,
        phases: [{ kills: KILLS, leaseSeconds: 2 }],
      });

      const runs = await drainAmqpQueue(AMQP_URL, queue);
      const audit = auditRuns(specs, runs, result.until);
      console.log(
        JSON.stringify({
          amqp: {
            failover: { kills: result.failovers.length, ...summarize(result.failovers.map((f) => f.leaderMs)) },
            expected: audit.expected,
            sent: audit.messages,
            duplicates: audit.duplicates,
            duplicatesWithOtherId: audit.duplicatesWithOtherId,
            missing: audit.missing.length,
            crashed: result.crashed.length,
          },
        }),
      );
      if (audit.missing.length > 0 || audit.unexpected.length > 0) console.log(describeAudit(audit, specs, runs));
      for (const crash of result.crashed) console.log(`crashed on its own: ${crash}`);

      assert.equal(result.failovers.length, KILLS);
      assert.deepEqual(result.crashed, [], 'no beat died unless killed');
      assert.deepEqual(audit.missing.slice(0, 20), [], `no slot missing (${audit.missing.length} missing)`);
      assert.deepEqual(audit.unexpected.slice(0, 20), [], 'no run off the schedule');
      assert.equal(audit.duplicatesWithOtherId, 0, 'every repeat carries its original task id');
      // 2 s leases: as on Redis, 3.5 s in the median and none past 10 s (the README's 6 s is
      // for the default 5 s lease, checked by kill-leader-redis.test.ts).
      assert.ok(summarize(result.failovers.map((f) => f.leaderMs)).medianMs < 3500, 'median failover under 3.5 s');
      for (const failover of result.failovers) {
        assert.ok(failover.leaderMs < 10_000, `failover within 10 s: ${JSON.stringify(failover)}`);
      }
    },
  );
});
