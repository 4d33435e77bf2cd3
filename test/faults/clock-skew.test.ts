// Beats on hosts whose clocks run 30 s ahead and 30 s behind (libfaketime), beside a beat
// on a correct clock, while the leader is killed again and again (issue 14.3). Schedules
// follow the database's clock, so whichever beat leads, every run goes out once, on time.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { type BeatProcess, killAllBeats, readLease } from '../support/beat-process.js';
import { PrivateRedis } from '../support/private-redis.js';
import {
  assertHealthy,
  awaitSentPast,
  insertHealthyTasks,
  isSend,
  lagOf,
  lagSummary,
  spawnBeatProcess,
} from './scenario.js';
import {
  createFaultDatabase,
  delay,
  type FaultDatabase,
  readRedisRuns,
  Redis,
  uniqueName,
  waitUntil,
} from './support.js';

const TASKS = 20;
const LEASE_SECONDS = 2;

describe('host clocks ±30 s off the database clock', () => {
  let redisServer: PrivateRedis;
  let redis: Redis;
  let db: FaultDatabase;

  before(async () => {
    redisServer = await PrivateRedis.start();
    redis = new Redis(redisServer.url(0));
    db = await createFaultDatabase();
  });

  after(async () => {
    if (process.env.DBBEAT_FAULT_DUMP) {
      for (const beat of beats)
        console.log(
          beat.label,
          JSON.stringify(beat.lines.slice(-12).map((line) => `${line.time} ${line.msg}`)),
          beat.otherOutput.slice(-5),
        );
    }
    await killAllBeats();
    redis?.disconnect();
    await redisServer?.remove();
    await db?.drop();
  });

  const beats: BeatProcess[] = [];

  test(
    'leaders at +30 s, −30 s and 0 s in turn, killed in turn: no run lost, none twice',
    { timeout: 240_000 },
    async () => {
      const queue = uniqueName('fault_clock');
      const start = (skew: string | undefined, label: string): BeatProcess => {
        const beat = spawnBeatProcess({
          databaseUrl: db.url,
          brokerUrl: redisServer.url(0),
          leaseSeconds: LEASE_SECONDS,
          label,
          ...(skew !== undefined && { skew }),
        });
        beats.push(beat);
        return beat;
      };
      const leaderPid = async (): Promise<number> =>
        waitUntil(
          'a valid lease',
          async () => {
            const lease = await readLease((sql, params) => db.pool.query(sql, params));
            return lease?.valid ? lease.pid : undefined;
          },
          30_000,
        );

      const ahead = start('+30s', 'ahead +30s');
      await ahead.waitForLine((line) => line.msg === 'became leader', 60_000);
      const specs = await insertHealthyTasks(db, queue, TASKS);
      const behind = start('-30s', 'behind -30s');
      await behind.waitForLine((line) => line.msg === 'standing by: another beat is the leader', 60_000);
      await delay(5000);
      const firstSends = ahead.lines.filter(isSend).length;

      // Kill the +30 s leader: the −30 s beat takes over. Then a correct one joins and the
      // −30 s leader is killed. Then a +30 s one joins and the correct leader is killed.
      await ahead.kill('SIGKILL');
      await behind.waitForLine((line) => line.msg === 'became leader', 30_000);
      const normal = start(undefined, 'correct clock');
      await normal.waitForLine((line) => line.msg === 'standing by: another beat is the leader', 60_000);
      await delay(5000);
      await behind.kill('SIGKILL');
      await normal.waitForLine((line) => line.msg === 'became leader', 30_000);
      const ahead2 = start('+30s', 'ahead +30s again');
      await ahead2.waitForLine((line) => line.msg === 'standing by: another beat is the leader', 60_000);
      await delay(5000);
      await normal.kill('SIGKILL');
      await ahead2.waitForLine((line) => line.msg === 'became leader', 30_000);
      await delay(5000);
      assert.equal(await leaderPid(), ahead2.pid);

      const until = Math.floor(Date.now() / 1000) * 1000;
      // The +30 s beat logs slot times on the database's clock.
      await awaitSentPast(ahead2, until + 1000);
      await ahead2.stop();

      const runs = await readRedisRuns(redis, queue);
      const names = new Set(specs.map((spec) => spec.name));
      const lags = lagOf(beats, names, specs[0]!.dateChanged, until);
      const offsets = beats.flatMap((beat) =>
        beat.lines
          .filter((line) => typeof line.offsetMs === 'number')
          .slice(0, 1)
          .map((line) => `${beat.label}: ${String(line.offsetMs)}`),
      );
      console.log(
        JSON.stringify({
          clockSkew: { firstLeaderSends: firstSends, lag: lagSummary(lags), offsets, sent: runs.length },
        }),
      );
      assert.ok(firstSends > 0, 'the +30 s beat sent while it led');
      // Lag is measured on each beat's corrected clock; a takeover after a kill is late by the lease.
      assertHealthy(specs, runs, until, lags, Infinity);
    },
  );
});
