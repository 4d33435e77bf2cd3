// Three beat processes on one database and one Redis for a minute: one leader, and
// every (task, slot) on the queue exactly once, none missing from the first to the last.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { type BeatProcess, killAllBeats, spawnBeat } from '../support/beat-process.js';
import { PrivateRedis } from '../support/private-redis.js';
import {
  auditRuns,
  createFaultDatabase,
  delay,
  deleteRedisRuns,
  type FaultDatabase,
  insertTasks,
  randomIdBase,
  readRedisRuns,
  Redis,
  type SentRun,
  uniqueName,
  waitUntil,
} from './support.js';

const redisServer = await PrivateRedis.start(); // this file's own
after(() => redisServer.remove());
const REDIS_URL = redisServer.url();
const TASKS = 20;
const RUN_FOR_MS = 62_000;

describe('three beats, one minute', () => {
  let db: FaultDatabase;
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  const queue = uniqueName('fault_three');
  let runs: SentRun[] = [];

  before(async () => {
    db = await createFaultDatabase();
    await redis.connect();
  });

  after(async () => {
    await killAllBeats();
    await deleteRedisRuns(redis, queue, runs.length > 0 ? runs : await readRedisRuns(redis, queue).catch(() => []));
    redis.disconnect();
    await db?.drop();
  });

  test('each (task, slot) is sent exactly once, with no gap', { timeout: 150_000 }, async () => {
    const dateChanged = Math.floor(Date.now() / 1000) * 1000;
    const specs = await insertTasks(db.pool, {
      idBase: randomIdBase(),
      count: TASKS,
      namePrefix: queue,
      queue,
      dateChanged,
      schedule: () => 1,
    });
    const beats: BeatProcess[] = [1, 2, 3].map((n) =>
      spawnBeat({ databaseUrl: db.url, brokerUrl: REDIS_URL, label: `beat ${n}` }),
    );
    await Promise.any(beats.map((beat) => beat.waitForLine((line) => line.msg === 'became leader', 60_000)));

    await delay(RUN_FOR_MS);
    for (const beat of beats) assert.ok(beat.alive, `${beat.label} died: ${beat.otherOutput.join('\n')}`);

    // Every slot up to now must reach Redis; wait for the last ones rather than guess a margin.
    const until = Math.floor(Date.now() / 1000) * 1000;
    const audit = await waitUntil(
      'every slot up to the end of the run',
      async () => {
        const audit = auditRuns(specs, await readRedisRuns(redis, queue), until);
        return audit.missing.length === 0 ? audit : undefined;
      },
      10_000,
      250,
    ).catch(async () => auditRuns(specs, await readRedisRuns(redis, queue), until));

    const exits = await Promise.all(beats.map((beat) => beat.stop()));
    runs = await readRedisRuns(redis, queue);
    const final = auditRuns(specs, runs, until);
    const leaders = beats.flatMap((beat) => beat.lines.filter((line) => line.msg === 'became leader'));
    console.log(
      JSON.stringify({
        threeBeats: {
          seconds: (until - dateChanged) / 1000,
          expected: final.expected,
          sent: final.messages,
          duplicates: final.duplicates,
          leaderships: leaders.length,
        },
      }),
    );

    assert.equal(leaders.length, 1, 'one leader for the whole minute (nobody was killed)');
    assert.deepEqual(audit.missing, [], 'no slot missing');
    assert.deepEqual(final.missing, []);
    assert.deepEqual(final.unexpected, [], 'no run off the schedule');
    assert.equal(final.duplicates, 0, 'no (periodic_task_name, dbbeat_scheduled_at) twice');
    assert.equal(final.repeatedIds, 0, 'no task id twice');
    assert.ok(final.expected >= TASKS * 60, `at least a minute of runs (${final.expected})`);
    for (const [index, exit] of exits.entries())
      assert.equal(exit.code, 0, `beat ${index + 1} stops cleanly on SIGTERM`);
  });
});
