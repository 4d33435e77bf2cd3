// Public bug reports about what a periodic task's message carries, replayed against a real
// Celery 5 worker (Debian's python3-celery) on Redis and on RabbitMQ: the row's execution
// options (queue, priority, expiry, headers) and django-celery-beat's periodic_task_name
// must reach the worker's task request, for a manual run ("run now", as Django admin's "Run
// selected tasks") as for a scheduled one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import amqp from 'amqplib';

import { runNow } from '../../src/beat/run-now.js';
import { connectBroker } from '../../src/broker/index.js';
import { openDatabase, type OpenDatabase } from '../../src/db/open.js';
import { startCeleryWorker } from '../support/celery/worker.js';
import { createMigratedDatabase, type TempDatabase } from '../support/postgres.js';
import { withPrivateRedis } from '../support/private-redis.js';
import { insertTask } from '../support/rows.js';
import { sampleMessage, uniqueQueue } from './contract.js';

const AMQP_URL = process.env.DBBEAT_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672/';

describe('replayed reports: execution options reach a real Celery worker', () => {
  const redis = withPrivateRedis();
  let temp: TempDatabase;
  let db: OpenDatabase;

  before(async () => {
    temp = await createMigratedDatabase('dbbeat_replay');
    db = await openDatabase({ databaseUrl: temp.url, poolSize: 2 });
  });
  after(async () => {
    await db.close();
    await temp.drop();
  });

  const brokers = [
    { name: 'Redis', url: () => redis().url() },
    { name: 'RabbitMQ', url: () => AMQP_URL },
  ];
  for (const broker of brokers) {
    test(`${broker.name}: a manual run keeps the row's queue, priority, expire_seconds and headers, and periodic_task_name reaches the request (https://github.com/celery/django-celery-beat/issues/803, https://github.com/celery/django-celery-results/issues/376, https://github.com/celery/django-celery-beat/pull/141)`, async () => {
      const queue = uniqueQueue('dbbeat_replay');
      const name = `run by hand ${queue}`;
      await insertTask(
        { query: (sql: string, params?: unknown[]) => db.query(sql, params).then((rows) => ({ rows })) } as never,
        {
          name,
          schedule: { crontab: { minute: '0', hour: '4' } },
          queue,
          priority: 5,
          expireSeconds: 600,
          headers: '{"x_tenant": "acme", "x_big": 9007199254740993}',
          args: '[1, 2.0]',
        },
      );
      const connected = await connectBroker(broker.url());
      const worker = await startCeleryWorker({ brokerUrl: broker.url(), queues: [queue] });
      try {
        const sentAt = new Date();
        const id = await runNow(name, { database: db, broker: connected, history: false, now: sentAt });
        const [record] = await worker.waitForRecords((records) => records.some((r) => r.id === id), 30_000);
        assert.ok(record);
        assert.equal(record.id, id);
        assert.equal(record.routing_key, queue, 'the row queue, not the default one');
        assert.equal(record.priority, 5);
        assert.equal(record.periodic_task_name, name, 'the worker request knows the periodic task');
        assert.equal(record.dbbeat_manual_run, true);
        assert.ok(record.expires, 'expire_seconds gives the manual run an expiry');
        assert.equal(Date.parse(record.expires) - sentAt.getTime(), 600_000);
        assert.deepEqual(record.typed, [
          'list',
          [
            [
              'list',
              [
                ['int', '1'],
                ['float', '2.0'],
              ],
            ],
            ['dict', []],
          ],
        ]);
        const [, headers] = record.typed_headers as ['dict', [string, unknown][]];
        assert.deepEqual(Object.fromEntries(headers), {
          x_big: ['int', '9007199254740993'],
          x_tenant: ['str', 'acme'],
        });
      } finally {
        await worker.stop();
        await connected.close();
        if (broker.name === 'RabbitMQ') {
          const connection = await amqp.connect(AMQP_URL);
          const channel = await connection.createChannel();
          await channel.deleteQueue(queue);
          await connection.close();
        }
      }
    });
  }

  test('RabbitMQ: a queue the workers declared with x-max-priority and x-max-length takes the beat messages, by priority, and the next publish works too (https://github.com/celery/celery/issues/3440, https://github.com/celery/celery/issues/8260, https://github.com/celery/kombu/issues/824)', async () => {
    const queue = uniqueQueue('dbbeat_replay_prio');
    const connection = await amqp.connect(AMQP_URL);
    const channel = await connection.createChannel();
    // As a worker with task_queue_max_priority = 10 (and a length cap) declares it.
    await channel.assertQueue(queue, { durable: true, arguments: { 'x-max-priority': 10, 'x-max-length': 100 } });
    const broker = await connectBroker(AMQP_URL);
    try {
      const low = sampleMessage({ queue, priority: 1 });
      const high = sampleMessage({ queue, priority: 9 });
      const later = sampleMessage({ queue, priority: 5 });
      assert.deepEqual(
        (await broker.publish([low, high])).map((o) => o.status),
        ['sent', 'sent'],
      );
      assert.deepEqual(
        (await broker.publish([later])).map((o) => o.status),
        ['sent'],
        'the channel survived',
      );
      const ids: string[] = [];
      for (;;) {
        const message = await channel.get(queue, { noAck: true });
        if (message === false) break;
        ids.push(String(message.properties.correlationId));
      }
      assert.deepEqual(ids, [high.id, later.id, low.id], 'highest priority first');
    } finally {
      await broker.close();
      await channel.deleteQueue(queue);
      await connection.close();
    }
  });
});
