// End to end, with real processes: `dbbeat beat` reads rows from the database and a real
// Celery 5 worker (Debian's python3-celery) executes what it sends: PostgreSQL over Redis
// and over RabbitMQ, and MariaDB over Redis (the dialect matrix, test/support/dialects.ts;
// DBBEAT_TEST_DIALECT picks one). Each run gets its own database, queues and worker.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import amqp from 'amqplib';
import { Redis } from 'ioredis';

import { createClient, type DbbeatClient } from '../../src/model/client.js';
import { migrate } from '../../src/db/migrate.js';
import { openDatabase, type OpenDatabase } from '../../src/db/open.js';
import { type BeatProcess, spawnBeat } from '../support/beat-process.js';
import { type CeleryWorker, type ExecutionRecord, startCeleryWorker } from '../support/celery/worker.js';
import { type TestDialect, testDialects } from '../support/dialects.js';
import { PrivateRedis } from '../support/private-redis.js';
import { waitFor } from '../support/wait.js';

const redisServer = await PrivateRedis.start(); // this file's own
after(() => redisServer.remove());
const REDIS_URL = redisServer.url();
const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672//';
const WAIT_MS = 30_000;

interface BrokerUnderTest {
  name: 'redis' | 'amqp';
  url: string;
  /** Messages waiting in a queue (all priority lists on Redis). */
  waiting(queue: string): Promise<number>;
  deleteQueue(queue: string): Promise<void>;
  close(): Promise<void>;
}

function redisBroker(): Promise<BrokerUnderTest> {
  const redis = new Redis(REDIS_URL);
  const lists = (queue: string) => [queue, `${queue}\x06\x163`, `${queue}\x06\x166`, `${queue}\x06\x169`];
  return Promise.resolve({
    name: 'redis',
    url: REDIS_URL,
    async waiting(queue) {
      const lengths = await Promise.all(lists(queue).map((list) => redis.llen(list)));
      return lengths.reduce((a, b) => a + b, 0);
    },
    async deleteQueue(queue) {
      await redis.del(...lists(queue), `_kombu.binding.${queue}`);
    },
    close() {
      redis.disconnect();
      return Promise.resolve();
    },
  });
}

async function amqpBroker(): Promise<BrokerUnderTest> {
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createChannel();
  return {
    name: 'amqp',
    url: AMQP_URL,
    async waiting(queue) {
      // checkQueue on a missing queue closes its channel (404), so use a fresh one each time.
      const check = await connection.createChannel();
      check.on('error', () => undefined);
      try {
        const { messageCount } = await check.checkQueue(queue);
        await check.close();
        return messageCount;
      } catch {
        return 0; // not declared yet
      }
    },
    async deleteQueue(queue) {
      await channel.deleteQueue(queue);
    },
    async close() {
      await connection.close();
    },
  };
}

function unique(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

const byName = (records: ExecutionRecord[], name: string) => records.filter((r) => r.periodic_task_name === name);
const longAgo = () => new Date(Date.now() - 3 * 24 * 3600 * 1000);

// PostgreSQL over both brokers; MariaDB over Redis (the broker code does not depend on the database).
const runs: { dialect: TestDialect; makeBroker: () => Promise<BrokerUnderTest> }[] = testDialects.flatMap((dialect) =>
  dialect.name === 'postgres'
    ? [
        { dialect, makeBroker: redisBroker },
        { dialect, makeBroker: amqpBroker },
      ]
    : [{ dialect, makeBroker: redisBroker }],
);

for (const { dialect, makeBroker } of runs) {
  const brokerName = makeBroker === redisBroker ? 'Redis' : 'RabbitMQ';
  describe(`beat end to end on ${dialect.name === 'postgres' ? 'PostgreSQL' : 'MariaDB'} over ${brokerName}`, () => {
    let temp: { url: string; drop(): Promise<void> };
    let db: OpenDatabase;
    let prisma: DbbeatClient;
    /** Inserts a task with plain SQL, as another service would. */
    const insertTask = (input: Parameters<TestDialect['insertTask']>[1]) => dialect.insertTask(db, input);
    /** Runs SQL written with $1, $2 … on either dialect. */
    const sql = <Row extends Record<string, unknown>>(text: string, params?: unknown[]) =>
      dialect.query<Row>(db, text, params);
    let broker: BrokerUnderTest;
    let worker: CeleryWorker;
    let beat: BeatProcess;
    const queue = unique('e2e');
    const otherQueue = unique('e2e_other');
    const idleQueues: string[] = [];

    before(async () => {
      temp = await dialect.create('dbbeat_e2e');
      db = await openDatabase({ databaseUrl: temp.url });
      await migrate(db);
      prisma = createClient(db);
      broker = await makeBroker();
      worker = await startCeleryWorker({ brokerUrl: broker.url, queues: [queue, otherQueue], concurrency: 4 });
      // A max-interval far above every pickup limit below: a change is seen through its
      // notification, or the test fails (polling alone would take a minute).
      beat = spawnBeat({ databaseUrl: temp.url, brokerUrl: broker.url, maxInterval: 60 });
      await beat.waitForLine((line) => line.msg.startsWith('beat ready'), WAIT_MS);
    });

    after(async () => {
      await beat?.stop();
      await worker?.stop();
      for (const name of [queue, otherQueue, ...idleQueues]) await broker?.deleteQueue(name).catch(() => undefined);
      await broker?.close();
      await prisma?.$disconnect();
      await db?.close();
      await temp?.drop();
    });

    test('every schedule kind is executed by the Celery worker with its args and kwargs, on its queue', async () => {
      const insertedAt = Date.now();
      const args = [1, 'two', { three: [3, 3.5, null, true] }, "ünïcødé ✓ 'quoted'"];
      const kwargs = { nested: { deep: { deeper: { deepest: [1, 2] } } }, flag: false, text: 'x'.repeat(3000) };
      await prisma.periodicTask.schedule({
        name: 'interval-task',
        task: 'dbbeat_test.record',
        interval: { every: 1, period: 'seconds' },
        args,
        kwargs,
        queue,
      });
      // Last run long ago: the crontab and solar tasks are due at once (one catch-up run).
      await insertTask({
        name: 'crontab-task',
        schedule: { crontab: { minute: '*/5', timezone: 'Europe/Berlin' } },
        args: '[42]',
        kwargs: '{"kind": "crontab"}',
        queue: otherQueue,
        lastRunAt: longAgo(),
      });
      await insertTask({
        name: 'solar-task',
        task: 'dbbeat_test.other',
        schedule: { solar: { event: 'solar_noon', latitude: 52.52, longitude: 13.405 } },
        kwargs: '{"kind": "solar"}',
        queue,
        lastRunAt: longAgo(),
      });
      await prisma.periodicTask.schedule({
        name: 'clocked-task',
        task: 'dbbeat_test.record',
        clocked: { clockedTime: new Date(Date.now() + 1500) },
        kwargs: { kind: 'clocked' },
        queue,
      });

      const expected = ['interval-task', 'crontab-task', 'solar-task', 'clocked-task'];
      const records = await worker
        .waitForRecords(
          (all) => expected.every((name) => byName(all, name).length > 0) && byName(all, 'interval-task').length >= 3,
          WAIT_MS,
        )
        .catch(async (error: Error) => {
          const seen = new Set((await worker.records()).map((r) => r.periodic_task_name));
          const problems = beat.lines
            .filter((line) => line.level >= 40 || String(line.task).startsWith('solar'))
            .map((line) => JSON.stringify(line));
          throw new Error(
            `missing runs of ${expected.filter((name) => !seen.has(name)).join(', ')}; beat warnings: ${problems.join(' | ')}`,
            { cause: error },
          );
        });
      const interval = byName(records, 'interval-task')[0]!;
      assert.deepEqual(interval.args, args);
      assert.deepEqual(interval.kwargs, kwargs);
      assert.equal(interval.routing_key, queue);
      assert.equal(interval.task, 'dbbeat_test.record');
      const crontab = byName(records, 'crontab-task')[0]!;
      assert.deepEqual(crontab.args, [42]);
      assert.deepEqual(crontab.kwargs, { kind: 'crontab' });
      assert.equal(crontab.routing_key, otherQueue);
      const solar = byName(records, 'solar-task')[0]!;
      assert.equal(solar.task, 'dbbeat_test.other');
      assert.deepEqual(solar.kwargs, { kind: 'solar' });
      assert.equal(byName(records, 'clocked-task')[0]!.routing_key, queue);

      // Interval runs are one second apart, each with its own task id.
      const slots = byName(records, 'interval-task')
        .map((r) => Date.parse(r.dbbeat_scheduled_at!))
        .sort((a, b) => a - b);
      for (let i = 1; i < slots.length; i += 1) assert.equal(slots[i]! - slots[i - 1]!, 1000);
      assert.equal(new Set(byName(records, 'interval-task').map((r) => r.id)).size, slots.length);
      await sql(`UPDATE django_celery_beat_periodictask SET enabled = false WHERE name = 'interval-task'`);
      // The crontab and solar tasks caught up once, not once per missed slot: one run for
      // a slot before the insert. (A slot that falls due while the test runs, a 5-minute
      // boundary or noon in Berlin, is an ordinary run and not counted.)
      for (const name of ['crontab-task', 'solar-task']) {
        const missed = byName(records, name).filter((r) => Date.parse(r.dbbeat_scheduled_at!) < insertedAt);
        assert.equal(
          missed.length,
          1,
          `${name}: runs for missed slots: ${missed.map((r) => r.dbbeat_scheduled_at).join(', ')}`,
        );
      }
    });

    test('a one-off task runs once and is disabled', async () => {
      const name = unique('one-off');
      await prisma.periodicTask.schedule({
        name,
        task: 'dbbeat_test.record',
        clocked: { clockedTime: new Date(Date.now() + 1000) },
        queue,
      });
      await worker.waitForRecords((all) => byName(all, name).length > 0, WAIT_MS);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const [row] = await sql<{ enabled: boolean | number; total_run_count: number; last_run_at: unknown }>(
        'SELECT enabled, total_run_count, last_run_at FROM django_celery_beat_periodictask WHERE name = $1',
        [name],
      );
      assert.equal(byName(await worker.records(), name).length, 1);
      assert.equal(Boolean(row!.enabled), false);
      assert.equal(Number(row!.total_run_count), 1);
      assert.notEqual(row!.last_run_at, null);
    });

    test('a row inserted with raw SQL while beat runs is sent within a second', async () => {
      const name = unique('raw');
      const insertedAt = Date.now();
      await insertTask({
        name,
        schedule: { interval: { every: 1, period: 'hours' } },
        queue,
        lastRunAt: longAgo(),
      });
      const sent = await beat.waitForLine((line) => line.task === name && line.msg.startsWith('sent'), WAIT_MS);
      const pickupMs = Date.parse(sent.time) - insertedAt;
      console.log(`${broker.name}: raw SQL insert to sent in ${pickupMs} ms`);
      assert.ok(pickupMs < 1000, `picked up after ${pickupMs} ms`);
      await worker.waitForRecords((all) => byName(all, name).length === 1, WAIT_MS);
    });

    test('a bad row is reported once, naming the task and field, and the good tasks go on', async () => {
      const good = unique('good-neighbour');
      await insertTask({ name: good, schedule: { interval: { every: 1, period: 'seconds' } }, queue });
      await insertTask({
        name: 'bad-args',
        schedule: { interval: { every: 1, period: 'seconds' } },
        args: 'not json',
        queue,
      });
      await insertTask({ name: 'bad-cron', schedule: { crontab: { minute: '61' } }, queue });
      await insertTask({ name: 'bad-zone', schedule: { crontab: { timezone: 'Mars/Base' } }, queue });
      const badArgs = await beat.waitForLine((line) => line.task === 'bad-args' && line.level === 50, WAIT_MS);
      assert.match(badArgs.msg, /args: "not json" is not JSON \(Expecting value at char 0\)/);
      const badCron = await beat.waitForLine((line) => line.task === 'bad-cron' && line.level === 50, WAIT_MS);
      assert.match(badCron.msg, /crontab\.minute: "61"/);
      const badZone = await beat.waitForLine((line) => line.task === 'bad-zone' && line.level === 50, WAIT_MS);
      assert.match(badZone.msg, /timezone: "Mars\/Base" is not a known time zone/);

      const before = byName(await worker.records(), good).length;
      await worker.waitForRecords((all) => byName(all, good).length >= before + 2, WAIT_MS);
      assert.equal(
        beat.lines.filter((line) => line.task === 'bad-args' && line.level === 50).length,
        1,
        'reported once',
      );
      assert.equal((await worker.records()).filter((r) => r.periodic_task_name?.startsWith('bad-')).length, 0);

      // Fixing the row brings it back without a restart.
      await sql(`UPDATE django_celery_beat_periodictask SET args = '[7]' WHERE name = 'bad-args'`);
      const fixed = await worker.waitForRecords((all) => byName(all, 'bad-args').length > 0, WAIT_MS);
      assert.deepEqual(byName(fixed, 'bad-args')[0]!.args, [7]);
      await sql(`UPDATE django_celery_beat_periodictask SET enabled = false WHERE name LIKE 'bad-%' OR name = $1`, [
        good,
      ]);
    });

    test('an edited schedule is followed from the moment of the edit, without a spurious run', async () => {
      const name = unique('edited');
      await insertTask({ name, schedule: { interval: { every: 1, period: 'seconds' } }, queue });
      await worker.waitForRecords((all) => byName(all, name).length >= 2, WAIT_MS);
      // Every second -> every hour: the runs stop.
      await sql(`INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES (1, 'hours')`);
      const [hourly] = await sql<{ id: number }>(
        `SELECT id FROM django_celery_beat_intervalschedule WHERE every = 1 AND period = 'hours' ORDER BY id DESC LIMIT 1`,
      );
      await sql(`UPDATE django_celery_beat_periodictask SET interval_id = $1 WHERE name = $2`, [hourly!.id, name]);
      await new Promise((resolve) => setTimeout(resolve, 1000)); // a run already on its way may land
      const settled = byName(await worker.records(), name).length;
      await new Promise((resolve) => setTimeout(resolve, 2500));
      assert.equal(byName(await worker.records(), name).length, settled, 'no runs after the edit');

      // Every hour (last run seconds ago) -> every 3 seconds: the first run comes 3 s after
      // the edit, not at once for a slot computed from the old last run.
      const editedAt = Date.now();
      await sql(
        `UPDATE django_celery_beat_intervalschedule SET every = 3, period = 'seconds'
                        WHERE id = (SELECT interval_id FROM django_celery_beat_periodictask WHERE name = $1)`,
        [name],
      );
      const records = await worker.waitForRecords((all) => byName(all, name).length > settled, WAIT_MS);
      const firstAfter = byName(records, name)
        .map((r) => Date.parse(r.dbbeat_scheduled_at!))
        .sort((a, b) => a - b)[settled]!;
      assert.ok(firstAfter >= editedAt + 3000 - 100, `first run ${firstAfter - editedAt} ms after the edit`);
      await sql('UPDATE django_celery_beat_periodictask SET enabled = false WHERE name = $1', [name]);
    });

    test('a message that expired before a worker took it is never executed', async () => {
      const idle = unique('e2e_idle');
      idleQueues.push(idle);
      await insertTask({
        name: 'expiring',
        schedule: { interval: { every: 1, period: 'hours' } },
        queue: idle,
        expireSeconds: 1,
        lastRunAt: longAgo(),
      });
      await waitFor('the message in the idle queue', async () => ((await broker.waiting(idle)) > 0 ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const late = await startCeleryWorker({ brokerUrl: broker.url, queues: [idle] });
      try {
        if (broker.name === 'redis') {
          // The worker reads the message and discards it as expired.
          await late.waitForLog(/expired|revoked/i, WAIT_MS);
        } else {
          // The message carries an AMQP expiration too, so RabbitMQ drops it first.
          await waitFor('the expired message to leave the queue', async () =>
            (await broker.waiting(idle)) === 0 ? true : undefined,
          );
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        assert.equal(byName(await late.records(), 'expiring').length, 0);
        assert.equal(late.running(), true);
      } finally {
        await late.stop();
      }
    });

    if (makeBroker === redisBroker) {
      test('priorities go to the Redis lists Celery reads them from', async () => {
        const idle = unique('e2e_prio');
        idleQueues.push(idle);
        const redis = new Redis(REDIS_URL);
        try {
          for (const [name, priority] of [
            ['p-none', null],
            ['p-0', 0],
            ['p-5', 5],
            ['p-9', 9],
          ] as const) {
            await insertTask({
              name,
              schedule: { interval: { every: 1, period: 'hours' } },
              queue: idle,
              priority,
              lastRunAt: longAgo(),
            });
          }
          await waitFor('four messages', async () => ((await broker.waiting(idle)) === 4 ? true : undefined));
          const namesIn = async (list: string) =>
            (await redis.lrange(list, 0, -1))
              .map((raw) => (JSON.parse(raw) as { headers: { periodic_task_name: string } }).headers.periodic_task_name)
              .sort();
          assert.deepEqual(await namesIn(idle), ['p-0', 'p-none']);
          assert.deepEqual(await namesIn(`${idle}\x06\x163`), ['p-5']);
          assert.deepEqual(await namesIn(`${idle}\x06\x169`), ['p-9']);
        } finally {
          redis.disconnect();
        }
      });
    }

    test('the beat stops cleanly on SIGTERM', async () => {
      // A beat and database of its own, so the shared beat keeps running for the other tests.
      const own = await dialect.create('dbbeat_e2e_stop');
      const ownDb = await openDatabase({ databaseUrl: own.url });
      try {
        await migrate(ownDb);
        const stopping = spawnBeat({ databaseUrl: own.url, brokerUrl: broker.url, maxInterval: 60 });
        await stopping.waitForLine((line) => line.msg.startsWith('beat ready'), WAIT_MS);
        const exit = await stopping.stop();
        assert.equal(exit.code, 0);
        assert.ok(stopping.lines.some((line) => line.msg === 'dbbeat stopped'));
        // Released: it expires now, not a lease time (5 s) from now. dbbeat_* times are UTC.
        const soon = dialect.time(ownDb, new Date(Date.now() + 1000));
        const held = await dialect.query<{ n: number }>(
          ownDb,
          'SELECT COUNT(*) AS n FROM dbbeat_lease WHERE expires_at > $1',
          [soon],
        );
        const leases = await dialect.query<{ n: number }>(ownDb, 'SELECT COUNT(*) AS n FROM dbbeat_lease');
        assert.deepEqual([Number(leases[0]?.n), Number(held[0]?.n)], [1, 0]);
      } finally {
        await ownDb.close();
        await own.drop();
      }
    });
  });
}
