// One bad task never slows the others (issue 14.1). Beside twenty healthy one-second tasks,
// one task whose message cannot be sent: args nested 5,000 deep (decoding them overflows
// the stack: the row is reported invalid when read), a queue whose Redis key holds a string (Redis answers WRONGTYPE),
// or a message over the size limit. Its failure is reported once, naming the task and the
// reason; it is retried on its own; the healthy tasks keep their times; nothing repeats.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';

import { type BeatProcess, killAllBeats } from '../support/beat-process.js';
import { PrivateRedis } from '../support/private-redis.js';
import { assertHealthy, awaitSentPast, insertHealthyTasks, lagOf, lagSummary, startLeader } from './scenario.js';
import {
  createFaultDatabase,
  delay,
  type FaultDatabase,
  randomIdBase,
  readRedisRuns,
  Redis,
  uniqueName,
} from './support.js';

const HEALTHY = 20;
/** How long the bad task sits beside the healthy ones. */
const OBSERVE_MS = 10_000;
/** The beat's message size limit in the oversized case, and the private Redis's own limit. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

interface BadTask {
  /** Row values of the bad task. */
  args: string;
  queue: string;
  /** What the failure report must say. */
  reason: RegExp;
  /** Extra flags for the beat. */
  flags?: string[];
  /** Prepares the broker (e.g. a key of the wrong type). */
  prepare?: (redis: Redis) => Promise<void>;
}

describe('one bad task beside healthy ones', () => {
  let redisServer: PrivateRedis;
  let redis: Redis;
  let db: FaultDatabase;

  before(async () => {
    redisServer = await PrivateRedis.start();
    redis = new Redis(redisServer.url(0));
    // What a Redis server refuses, so that only the beat's own limit keeps the message out.
    await redis.config('SET', 'proto-max-bulk-len', String(MAX_MESSAGE_BYTES));
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

  async function runScenario(kind: string, bad: (queue: string) => BadTask): Promise<void> {
    const queue = uniqueName(`fault_bad_${kind}`);
    const task = bad(queue);
    await task.prepare?.(redis);
    const beat: BeatProcess = await startLeader({
      databaseUrl: db.url,
      brokerUrl: redisServer.url(0),
      ...(task.flags !== undefined && { extraArgs: task.flags }),
    });
    const specs = await insertHealthyTasks(db, queue, HEALTHY);
    await awaitSentPast(beat, Date.now() + 1000);
    const badName = `${queue}_bad`;
    const badId = randomIdBase();
    const insertedAt = Date.now();
    await db.pool.query(
      `INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES (1, 'seconds');
       INSERT INTO django_celery_beat_periodictask
         (id, name, task, interval_id, args, kwargs, queue, headers, one_off, enabled, total_run_count, date_changed, description)
       VALUES (${badId}, '${badName}', 'dbbeat.fault.bad', currval('django_celery_beat_intervalschedule_id_seq'),
               '${task.args.replace(/'/g, "''")}', '{}', '${task.queue}', '{}', false, true, 0, now(), '')`,
    );
    await delay(OBSERVE_MS);
    const until = Math.floor(Date.now() / 1000) * 1000;
    await awaitSentPast(beat, until + 1000).catch(() => undefined); // a slowed beat fails below, with its figures
    const exit = await beat.stop();
    assert.equal(exit.code, 0, 'stops cleanly on SIGTERM');

    const runs = await readRedisRuns(redis, queue);
    const names = new Set(specs.map((spec) => spec.name));
    const lags = lagOf([beat], names, insertedAt, until);
    const reports = beat.lines.filter((line) => line.level >= 50 && line.task === badName);
    const loopFailures = beat.lines.filter(
      (line) => line.level >= 50 && /^beat: /.test(line.msg) && Date.parse(line.time) >= insertedAt,
    );
    console.log(
      JSON.stringify({
        badTask: {
          kind,
          healthyLag: lagSummary(lags),
          reports: reports.map((line) => line.msg),
          loopFailures: loopFailures.length,
        },
      }),
    );
    assertHealthy(specs, runs, until, lags);
    assert.equal(reports.length, 1, `the bad task is reported once (got ${reports.length})`);
    assert.match(reports[0]!.msg, new RegExp(badName));
    assert.match(reports[0]!.msg, task.reason);
    assert.equal(loopFailures.length, 0, 'the loop itself never backs off');
    assert.equal(runs.filter((run) => run.name === badName).length, 0, 'the bad task sent nothing');
  }

  test('args nested 5,000 deep (decoding them overflows the stack)', { timeout: 90_000 }, async () => {
    await runScenario('deep', (queue) => ({
      args: '['.repeat(5000) + ']'.repeat(5000),
      queue,
      reason: /nested too deeply|stack/i,
    }));
  });

  test('a queue whose Redis key holds another type (WRONGTYPE)', { timeout: 90_000 }, async () => {
    await runScenario('wrongtype', (queue) => ({
      args: '[]',
      queue: `${queue}_wrong`,
      reason: /WRONGTYPE/,
      prepare: async (client) => {
        await client.set(`${queue}_wrong`, 'not a list');
      },
    }));
  });

  test('a message over the size limit', { timeout: 90_000 }, async () => {
    await runScenario('oversized', (queue) => ({
      args: JSON.stringify(['x'.repeat(MAX_MESSAGE_BYTES)]),
      queue,
      reason: /bytes/,
      flags: ['--max-message-size', String(MAX_MESSAGE_BYTES)],
    }));
  });
});
