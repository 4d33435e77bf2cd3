// An open transaction holds one task row's lock for 20 s (issue 14.2): `BEGIN; UPDATE …
// WHERE name = 'c1';` from another client. Sending never waits for it: every task keeps
// its times, the blocked recording is logged naming the task and the blocking process,
// and the run is recorded once the lock is gone. With two beats, the standby never has
// a reason to take over, and no write of a former leader goes through.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';

import { type BeatProcess, killAllBeats, readLease, spawnBeat } from '../support/beat-process.js';
import { PrivateRedis } from '../support/private-redis.js';
import { assertHealthy, awaitSentPast, insertHealthyTasks, lagOf, lagSummary, startLeader } from './scenario.js';
import { createFaultDatabase, delay, type FaultDatabase, readRedisRuns, Redis, uniqueName } from './support.js';

const TASKS = 20;
const HOLD_MS = 20_000;

describe('an open transaction holds a task row lock', () => {
  let redisServer: PrivateRedis;
  let redis: Redis;
  let db: FaultDatabase;

  before(async () => {
    redisServer = await PrivateRedis.start();
    redis = new Redis(redisServer.url(0));
  });

  after(async () => {
    redis?.disconnect();
    await redisServer?.remove();
  });

  beforeEach(async () => {
    db = await createFaultDatabase();
  });

  afterEach(async () => {
    await killAllBeats();
    await db?.drop();
  });

  async function runScenario(beatCount: 1 | 2): Promise<void> {
    const queue = uniqueName(`fault_rowlock_${beatCount}`);
    const options = { databaseUrl: db.url, brokerUrl: redisServer.url(0) };
    const leader = await startLeader({ ...options, label: 'leader' });
    const beats: BeatProcess[] = [leader];
    if (beatCount === 2) {
      const standby = spawnBeat({ ...options, label: 'standby' });
      beats.push(standby);
      await standby.waitForLine((line) => line.msg === 'standing by: another beat is the leader', 60_000);
    }
    const specs = await insertHealthyTasks(db, queue, TASKS);
    await awaitSentPast(leader, Date.now() + 1000);
    const tokenBefore = (await readLease((sql, params) => db.pool.query(sql, params)))!.token;

    const locked = specs[1]!.name;
    const blocker = await db.pool.connect();
    const lockedAt = Date.now();
    let blockerPid: number;
    try {
      blockerPid = (await blocker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await blocker.query('BEGIN');
      await blocker.query(`UPDATE django_celery_beat_periodictask SET description = 'held' WHERE name = $1`, [locked]);
      await delay(HOLD_MS);
      await blocker.query('COMMIT');
    } finally {
      blocker.release();
    }
    const committedAt = Date.now();
    const until = Math.floor(Date.now() / 1000) * 1000 + 2000;
    await awaitSentPast(leader, until).catch(() => undefined); // a slowed beat fails below, with its figures
    // The held run records land once the lock is gone.
    await delay(1500);
    const { rows } = await db.pool.query<{ last_run_at: Date; total_run_count: number }>(
      'SELECT last_run_at, total_run_count FROM django_celery_beat_periodictask WHERE name = $1',
      [locked],
    );
    const tokenAfter = (await readLease((sql, params) => db.pool.query(sql, params)))!.token;
    const exits = await Promise.all(beats.map((beat) => beat.stop()));
    for (const exit of exits) assert.equal(exit.code, 0, 'stops cleanly on SIGTERM');

    const runs = await readRedisRuns(redis, queue);
    const lags = lagOf(beats, new Set(specs.map((spec) => spec.name)), lockedAt, until);
    const warnings = leader.lines.filter(
      (line) => line.level >= 40 && Date.parse(line.time) >= lockedAt && Date.parse(line.time) <= committedAt + 1000,
    );
    const named = warnings.filter((line) => line.task === locked || new RegExp(locked).test(line.msg));
    const lockedRuns = runs.filter((run) => run.name === locked);
    console.log(
      JSON.stringify({
        rowLock: {
          beats: beatCount,
          holdMs: committedAt - lockedAt,
          lag: lagSummary(lags),
          warnings: warnings.map((line) => line.msg).slice(0, 5),
          lockedTaskRuns: lockedRuns.length,
          recorded: rows[0],
          tokens: [tokenBefore, tokenAfter],
        },
      }),
    );
    assertHealthy(specs, runs, until, lags);
    assert.ok(named.length >= 1, 'the held row is logged, naming the task');
    assert.match(named[0]!.msg, new RegExp(`\\b${blockerPid}\\b`), 'and the process that holds the lock');
    assert.ok(named.length <= 3, `logged a few times, not on every batch (${named.length})`);
    assert.equal(tokenAfter, tokenBefore, 'the leader kept its lease: nobody had to take over');
    assert.ok(
      beats.every((beat) => beat === leader || !beat.lines.some((line) => line.msg === 'became leader')),
      'the standby never led',
    );
    assert.ok(
      rows[0]!.last_run_at.getTime() >= until - 2000,
      `the held task's runs were recorded after COMMIT (${rows[0]!.last_run_at.toISOString()})`,
    );
    assert.equal(rows[0]!.total_run_count, lockedRuns.length, 'each of its runs counted once');
  }

  test(
    'one beat: the others keep sending; the held task is logged with the blocker',
    { timeout: 120_000 },
    async () => {
      await runScenario(1);
    },
  );

  test(
    'two beats: the leader keeps its lease and keeps sending; the standby stays standby',
    { timeout: 120_000 },
    async () => {
      await runScenario(2);
    },
  );
});
