// Two rows of the README's Guarantees table that no other test covers, each with a child
// process and real services:
// - "a former leader wakes up late": a leader frozen (SIGSTOP) past its lease while a
//   standby takes over, then woken (SIGCONT), sends no new run, records nothing and steps down;
// - "the database is down" for longer than a lease: the beat stops sending within its
//   lease, survives, and after recovery sends every run that fell due, once; nothing
//   is recorded that was not sent.
// What the broker holds is compared with what the database recorded, task by task.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';

import type pg from 'pg';

import { type BeatLogLine, type BeatProcess, killAllBeats, readLease, spawnBeat } from '../support/beat-process.js';
import { PrivateRedis } from '../support/private-redis.js';
import { TcpProxy } from '../support/tcp-proxy.js';
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
} from './support.js';

const TASKS = 10;
const LEASE_SECONDS = 2;

function isSend(line: BeatLogLine): boolean {
  return typeof line.scheduled === 'string' && typeof line.id === 'string';
}

/** Waits until `beat` has sent a run scheduled after `time` (epoch ms). */
async function sentPast(beat: BeatProcess, time: number, timeoutMs = 30_000): Promise<void> {
  await beat.waitForLine((line) => isSend(line) && Date.parse(String(line.scheduled)) > time, timeoutMs);
}

/** Inserts TASKS tasks due every second, from the next whole second on. */
async function insertEverySecond(pool: pg.Pool, queue: string): Promise<TaskSpec[]> {
  return insertTasks(pool, {
    idBase: randomIdBase(),
    count: TASKS,
    namePrefix: queue,
    queue,
    dateChanged: Math.floor(Date.now() / 1000) * 1000,
    schedule: () => 1,
  });
}

/** Every slot up to `until` on the broker exactly once, none off the schedule. */
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

/**
 * What the database recorded matches what the broker holds, task by task: as many runs
 * counted as messages, and last_run_at the latest slot sent. A write by a leader that
 * lost its lease, or a record of a run that was not sent, breaks one of the two.
 */
async function assertRecordedAsSent(
  pool: pg.Pool,
  specs: readonly TaskSpec[],
  runs: readonly SentRun[],
): Promise<void> {
  const { rows } = await pool.query<{ name: string; total_run_count: number; last_run_at: Date | null }>(
    'SELECT name, total_run_count, last_run_at FROM django_celery_beat_periodictask WHERE name = ANY($1::text[])',
    [specs.map((spec) => spec.name)],
  );
  const mismatches: string[] = [];
  for (const row of rows) {
    const sent = runs.filter((run) => run.name === row.name);
    const latest = Math.max(...sent.map((run) => run.slot));
    if (row.total_run_count !== sent.length || row.last_run_at?.getTime() !== latest) {
      mismatches.push(
        `${row.name}: recorded ${row.total_run_count} runs, last ${row.last_run_at?.toISOString()}; ` +
          `broker holds ${sent.length}, last ${new Date(latest).toISOString()}`,
      );
    }
  }
  assert.equal(rows.length, specs.length);
  assert.deepEqual(mismatches, [], 'the database recorded exactly what the broker holds');
}

describe('guarantees', () => {
  let db: FaultDatabase;
  let redisServer: PrivateRedis;
  let redis: Redis;

  beforeEach(async () => {
    db = await createFaultDatabase();
    redisServer = await PrivateRedis.start();
    redis = new Redis(redisServer.url());
  });

  afterEach(async () => {
    await killAllBeats();
    redis?.disconnect();
    await redisServer?.remove();
    await db?.drop();
  });

  test(
    'a leader frozen past its lease and woken up sends no new run, records nothing and steps down',
    { timeout: 120_000 },
    async () => {
      const queue = uniqueName('fault_woken');
      const beats: BeatProcess[] = [1, 2].map((n) =>
        spawnBeat({
          databaseUrl: db.url,
          brokerUrl: redisServer.url(),
          leaseSeconds: LEASE_SECONDS,
          label: `beat ${n}`,
        }),
      );
      await Promise.any(beats.map((beat) => beat.waitForLine((line) => line.msg === 'became leader', 60_000)));
      const specs = await insertEverySecond(db.pool, queue);
      const lease = await readLease((sql, params) => db.pool.query(sql, params));
      const victim = beats.find((beat) => beat.pid === lease?.pid)!;
      const survivor = beats.find((beat) => beat !== victim)!;
      assert.ok(victim, `the lease names one of our beats (${lease?.holder})`);
      await sentPast(victim, Date.now() + 1000);

      const stoppedAt = Date.now();
      process.kill(victim.pid, 'SIGSTOP');
      let continued = false;
      try {
        const took = await survivor.waitForLine((line) => line.msg === 'became leader', 30_000);
        const takeoverMs = Date.parse(took.time) - stoppedAt;
        await sentPast(survivor, Date.now(), 10_000);
        // Frozen for well over a lease, the standby leading meanwhile.
        await delay(Math.max(0, stoppedAt + 3 * LEASE_SECONDS * 1000 - Date.now()));
        const wokenAt = Date.now();
        const linesBefore = victim.lines.length;
        process.kill(victim.pid, 'SIGCONT');
        continued = true;

        const steppedDown = await victim.waitForLine(
          (line) => line.msg.startsWith('stepped down'),
          15_000,
          linesBefore,
        );
        await delay(2000);
        const until = Math.ceil(Date.now() / 1000) * 1000;
        await sentPast(survivor, until + 1000, 15_000);
        for (const beat of beats) assert.equal((await beat.stop()).code, 0, `${beat.label} stops cleanly on SIGTERM`);

        const runs = await readRedisRuns(redis, queue);
        console.log(
          JSON.stringify({
            wokenLeader: { frozenMs: wokenAt - stoppedAt, takeoverMs, steppedDown: steppedDown.msg, sent: runs.length },
          }),
        );
        // A publish cut off by the freeze may complete after the wake (Redis then suppresses
        // it); a run it had not begun, for a slot after the freeze, must never be sent by it.
        const lateSends = victim.lines.filter(
          (line) => isSend(line) && line.duplicate !== true && Date.parse(String(line.scheduled)) > stoppedAt + 1000,
        );
        assert.deepEqual(lateSends, [], 'the woken leader sent no run it had not begun before the freeze');
        assert.equal(
          survivor.lines.filter((line) => line.msg === 'became leader').length,
          1,
          'the standby took over once and kept the lead',
        );
        assertAllOnce(specs, runs, until);
        await assertRecordedAsSent(db.pool, specs, runs);
      } finally {
        if (!continued) process.kill(victim.pid, 'SIGCONT');
      }
    },
  );

  test(
    'the database down for three leases: the beat stops sending within its lease, then sends every run once',
    { timeout: 120_000 },
    async () => {
      const queue = uniqueName('fault_db_down');
      const proxy = await TcpProxy.start('127.0.0.1', Number(new URL(db.url).port || 5432));
      try {
        const beat = spawnBeat({
          databaseUrl: proxy.rewrite(db.url),
          brokerUrl: redisServer.url(),
          leaseSeconds: LEASE_SECONDS,
        });
        await beat.waitForLine((line) => line.msg === 'became leader', 60_000);
        const specs = await insertEverySecond(db.pool, queue);
        await sentPast(beat, Date.now() + 1000);

        const cutAt = Date.now();
        await proxy.cut();
        await beat.waitForLine((line) => line.level >= 50 && Date.parse(line.time) >= cutAt, 15_000);
        await delay(Math.max(0, cutAt + 3 * LEASE_SECONDS * 1000 - Date.now()));
        assert.ok(
          beat.alive,
          `the beat survives the outage: ${JSON.stringify(beat.exitStatus)} ${beat.otherOutput.slice(-3).join(' | ')}`,
        );
        const linesAtRestore = beat.lines.length;
        const restoredAt = Date.now();
        await proxy.restore();

        await beat.waitForLine((line) => line.msg === 'became leader', 30_000, linesAtRestore);
        const until = Math.ceil(Date.now() / 1000) * 1000 + 1000;
        await sentPast(beat, until);
        assert.equal((await beat.stop()).code, 0, 'stops cleanly on SIGTERM');

        // Sends stop once the lease may have lapsed (its local validity ends before the lease does).
        const sentDuringOutage = beat.lines
          .slice(0, linesAtRestore)
          .filter((line) => isSend(line) && Date.parse(String(line.sent)) > cutAt)
          .map((line) => Date.parse(String(line.sent)));
        const lastSendMs = sentDuringOutage.length > 0 ? Math.max(...sentDuringOutage) - cutAt : 0;
        const runs = await readRedisRuns(redis, queue);
        const dueDuringOutage = runs.filter((run) => run.slot > cutAt && run.slot < restoredAt).length;
        console.log(
          JSON.stringify({
            databaseDown: {
              outageMs: restoredAt - cutAt,
              lastSendAfterCutMs: lastSendMs,
              dueDuringOutage,
              sent: runs.length,
            },
          }),
        );
        assert.ok(
          lastSendMs <= LEASE_SECONDS * 1000 + 500,
          `the last send came ${lastSendMs} ms after the cut; the lease is ${LEASE_SECONDS} s`,
        );
        assert.ok(dueDuringOutage >= TASKS * 3, 'the runs that fell due during the outage were sent after it');
        assertAllOnce(specs, runs, until);
        await assertRecordedAsSent(db.pool, specs, runs);
      } finally {
        await proxy.close();
      }
    },
  );
});
