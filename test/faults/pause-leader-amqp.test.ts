// A leader paused (SIGSTOP) between reading a batch's rows and publishing it, while a
// standby takes over; then woken (SIGCONT). On RabbitMQ, nothing suppresses a repeat, so
// the old leader must drop its in-flight batch when its lease may have lapsed (issue 14.4).
//
// The pause lands exactly in that window: before each batch the leader reads the change log
// (edits made a moment ago are honoured); a test transaction holds an ACCESS EXCLUSIVE lock
// on the change log, so that read waits; the test stops the leader while it waits, then
// lets the read finish, so its answer sits in the socket.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { killAllBeats, spawnBeat } from '../support/beat-process.js';
import { awaitSentPast, startLeader } from './scenario.js';
import {
  auditRuns,
  createFaultDatabase,
  delay,
  deleteAmqpQueue,
  describeAudit,
  drainAmqpQueue,
  type FaultDatabase,
  insertTasks,
  randomIdBase,
  uniqueName,
  waitUntil,
} from './support.js';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672//';
const TASKS = 20;
const LEASE_SECONDS = 2;

describe('a paused leader wakes up, RabbitMQ', () => {
  let db: FaultDatabase;
  const queue = uniqueName('fault_pause');

  before(async () => {
    db = await createFaultDatabase();
  });

  after(async () => {
    await killAllBeats();
    await deleteAmqpQueue(AMQP_URL, queue).catch(() => undefined);
    await db?.drop();
  });

  test(
    'the woken leader drops the batch it read before the pause: no run twice, none missing',
    { timeout: 120_000 },
    async () => {
      // A long --max-interval: the change log is then read only right before each batch, so
      // the held read below is that one (not the loop's periodic look at changes).
      const options = { databaseUrl: db.url, brokerUrl: AMQP_URL, leaseSeconds: LEASE_SECONDS, maxInterval: 60 };
      const first = await startLeader({ ...options, label: 'first leader' });
      const specs = await insertTasks(db.pool, {
        idBase: randomIdBase(),
        count: TASKS,
        namePrefix: queue,
        queue,
        dateChanged: Math.floor(Date.now() / 1000) * 1000,
        schedule: () => 1,
      });
      const second = spawnBeat({ ...options, label: 'standby' });
      await second.waitForLine((line) => line.msg === 'standing by: another beat is the leader', 60_000);
      await awaitSentPast(first, Date.now() + 1000);

      // Hold the batch's read of the change log until the leader is stopped.
      const locker = await db.pool.connect();
      let pausedAt: number;
      try {
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE dbbeat_change IN ACCESS EXCLUSIVE MODE');
        const lockerPid = (await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        await waitUntil(
          'the leader’s batch read to wait on the lock',
          async () => {
            const { rows } = await db.pool.query<{ pid: number }>(
              `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND $2 = ANY(pg_blocking_pids(pid))`,
              [db.temp.name, lockerPid],
            );
            return rows.length > 0 ? true : undefined;
          },
          10_000,
          10,
        );
        first.child.kill('SIGSTOP');
        pausedAt = Date.now();
        await locker.query('COMMIT');
      } finally {
        locker.release();
      }

      // The standby takes over and sends the runs the stopped leader has in hand.
      await second.waitForLine((line) => line.msg === 'became leader', 30_000);
      await awaitSentPast(second, pausedAt + 1000);
      first.child.kill('SIGCONT');
      const wokeAt = Date.now();
      const linesBeforeWake = first.lines.length;
      await first
        .waitForLine((line) => /^stepped down/.test(line.msg), 15_000, linesBeforeWake)
        .catch((error: unknown) => {
          console.log(
            first.lines
              .slice(-15)
              .map((line) => `${line.time} ${line.msg}`)
              .join('\n'),
          );
          throw error;
        });
      const until = Math.ceil(Date.now() / 1000) * 1000 + 1000;
      await awaitSentPast(second, until);
      await delay(200);
      await Promise.all([first.stop(), second.stop()]);

      const runs = await drainAmqpQueue(AMQP_URL, queue);
      const audit = auditRuns(specs, runs, until);
      const afterWake = first.lines.slice(linesBeforeWake);
      const droppedLine = afterWake.find((line) => /lease may have lapsed/.test(line.msg));
      console.log(
        JSON.stringify({
          pausedLeaderAmqp: {
            pauseMs: wokeAt - pausedAt,
            expected: audit.expected,
            sent: audit.messages,
            duplicates: audit.duplicates,
            duplicatesWithOtherId: audit.duplicatesWithOtherId,
            missing: audit.missing.length,
            sentByWokenLeader: afterWake.filter(
              (line) => typeof line.scheduled === 'string' && typeof line.id === 'string',
            ).length,
            dropped: droppedLine?.runs ?? null,
          },
        }),
      );
      if (audit.missing.length > 0 || audit.unexpected.length > 0) console.log(describeAudit(audit, specs, runs));
      assert.deepEqual(audit.missing.slice(0, 20), [], 'no slot missing');
      assert.equal(audit.duplicates, 0, 'the woken leader published nothing the new leader had sent');
      assert.ok(droppedLine, 'the woken leader says it dropped its batch');
    },
  );
});
