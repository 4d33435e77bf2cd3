// The fault tests on MariaDB: three beats on one database with the leader SIGKILLed twice,
// and a crash and restart of the database server itself (a private mariadbd of this
// file's own, never the shared one). Every (task, slot) must reach Redis exactly once.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { MysqlDatabase } from '../../src/db/mysql/connection.js';
import { migrate } from '../../src/db/migrate.js';
import { type BeatProcess, killAllBeats, spawnBeat } from '../support/beat-process.js';
import { createTempMysqlDatabase } from '../support/mysql.js';
import { PrivateMariaDb } from '../support/private-mariadb.js';
import { PrivateRedis } from '../support/private-redis.js';
import { insertMysqlTasks, mysqlLeaseHolderPid } from './mysql-support.js';
import {
  auditRuns,
  delay,
  describeAudit,
  randomIdBase,
  readRedisRuns,
  Redis,
  type TaskSpec,
  uniqueName,
  waitUntil,
} from './support.js';

const redisServer = await PrivateRedis.start(); // this file's own
after(() => redisServer.remove());
const REDIS_URL = redisServer.url();
const TASKS = 20;

/** Waits until every slot up to `until` is on the queue (or 10 s), then audits once more. */
async function finalAudit(redis: Redis, queue: string, specs: TaskSpec[], until: number) {
  await waitUntil(
    'every slot up to the end of the run',
    async () => {
      const audit = auditRuns(specs, await readRedisRuns(redis, queue), until);
      return audit.missing.length === 0 ? audit : undefined;
    },
    10_000,
    250,
  ).catch(() => undefined);
  const runs = await readRedisRuns(redis, queue);
  const audit = auditRuns(specs, runs, until);
  if (audit.missing.length > 0 || audit.unexpected.length > 0 || audit.duplicates > 0)
    console.log(describeAudit(audit, specs, runs));
  return audit;
}

describe('MariaDB: three beats, the leader SIGKILLed twice', () => {
  test('each (task, slot) is sent exactly once, with no gap', { timeout: 180_000 }, async () => {
    const temp = await createTempMysqlDatabase('dbbeat_mysql_fault');
    const db = new MysqlDatabase({ url: temp.url });
    const redis = new Redis(REDIS_URL);
    const queue = uniqueName('mysql_fault_three');
    try {
      await migrate(db);
      const beats: BeatProcess[] = [];
      const start = () => {
        const beat = spawnBeat({ databaseUrl: temp.url, brokerUrl: REDIS_URL, label: `beat #${beats.length + 1}` });
        beats.push(beat);
      };
      for (let n = 0; n < 3; n += 1) start();
      // The tasks go in once a leader is ready, so a slow start (a busy machine) is not
      // counted against the catch-up window; the leader hears of them through the change log.
      await Promise.any(beats.map((beat) => beat.waitForLine((line) => /^beat ready/.test(line.msg), 60_000)));
      const dateChanged = Math.floor(Date.now() / 1000) * 1000;
      const specs = await insertMysqlTasks(db, {
        idBase: randomIdBase(),
        count: TASKS,
        namePrefix: queue,
        queue,
        dateChanged,
        schedule: () => 1,
      });
      const kills: number[] = [];
      for (let round = 0; round < 2; round += 1) {
        await delay(12_000);
        const pid = await waitUntil('a valid lease', () => mysqlLeaseHolderPid(db), 30_000);
        const leader = beats.find((beat) => beat.pid === pid && beat.alive);
        assert.ok(leader, `the lease names a live beat (pid ${pid})`);
        await leader.kill('SIGKILL');
        kills.push(Date.now());
        start(); // keep three running
      }
      await delay(15_000);
      const until = Math.floor(Date.now() / 1000) * 1000;
      const audit = await finalAudit(redis, queue, specs, until);
      await Promise.all(beats.map((beat) => beat.stop()));
      const leaders = beats.flatMap((beat) => beat.lines.filter((line) => line.msg === 'became leader'));
      if (audit.missing.length > 0) {
        for (const beat of beats) {
          const notable = beat.lines.filter((line) => line.level >= 40 || /leader|stepped|ready/.test(line.msg));
          console.log(`${beat.label}: ${notable.map((line) => `${line.time} ${line.msg}`).join(' | ')}`);
        }
      }
      console.log(
        JSON.stringify({
          mysqlThreeBeats: {
            seconds: (until - dateChanged) / 1000,
            expected: audit.expected,
            sent: audit.messages,
            duplicates: audit.duplicates,
            leaderships: leaders.length,
          },
        }),
      );
      assert.equal(leaders.length, 3, 'a first leader and one after each kill');
      assert.deepEqual(audit.missing, [], 'no slot missing');
      assert.deepEqual(audit.unexpected, [], 'no run off the schedule');
      assert.equal(audit.duplicates, 0, 'no (periodic_task_name, dbbeat_scheduled_at) twice');
      assert.equal(audit.repeatedIds, 0, 'no task id twice');
    } finally {
      await killAllBeats();
      redis.disconnect();
      await db.close();
      await temp.drop();
    }
  });
});

describe('MariaDB: the database server crashes and restarts', () => {
  test('the beat waits it out and then sends every run that fell due, once', { timeout: 180_000 }, async () => {
    const name = 'dbbeat_restart';
    const server = await PrivateMariaDb.start(name);
    const url = server.url(name);
    const db = new MysqlDatabase({ url });
    const redis = new Redis(REDIS_URL);
    const queue = uniqueName('mysql_fault_restart');
    try {
      await migrate(db);
      const beat = spawnBeat({ databaseUrl: url, brokerUrl: REDIS_URL, label: 'beat' });
      await beat.waitForLine((line) => /^beat ready/.test(line.msg), 60_000);
      const dateChanged = Math.floor(Date.now() / 1000) * 1000;
      const specs = await insertMysqlTasks(db, {
        idBase: randomIdBase(),
        count: TASKS,
        namePrefix: queue,
        queue,
        dateChanged,
        schedule: () => 1,
      });
      await delay(8_000);
      await server.crash();
      const crashedAt = Date.now();
      await delay(5_000);
      await server.restart();
      const restartedAt = Date.now();
      await delay(12_000);
      const until = Math.floor(Date.now() / 1000) * 1000;
      const audit = await finalAudit(redis, queue, specs, until);
      assert.ok(beat.alive, `the beat survived the outage: ${beat.otherOutput.slice(-3).join(' | ')}`);
      await beat.stop();
      console.log(
        JSON.stringify({
          mysqlRestart: {
            outageMs: restartedAt - crashedAt,
            expected: audit.expected,
            sent: audit.messages,
            duplicates: audit.duplicates,
          },
        }),
      );
      assert.deepEqual(audit.missing, [], 'no slot missing');
      assert.deepEqual(audit.unexpected, [], 'no run off the schedule');
      assert.equal(audit.duplicates, 0, 'no (periodic_task_name, dbbeat_scheduled_at) twice');
    } finally {
      await killAllBeats();
      redis.disconnect();
      await db.close().catch(() => undefined);
      await server.stop();
    }
  });
});
