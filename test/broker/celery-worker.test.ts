// Messages built and published by our brokers, executed by a real Celery 5
// worker: right task, args, kwargs and queue; expired messages discarded; no
// message makes the worker crash. Each test starts and stops its own worker.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import amqp from 'amqplib';
import { Redis } from 'ioredis';

import { connectBroker } from '../../src/broker/index.js';
import type { TaskMessage } from '../../src/broker/types.js';
import { startCeleryWorker } from '../support/celery/worker.js';
import { PrivateRedis } from '../support/private-redis.js';
import { sampleMessage, uniqueQueue } from './contract.js';

const redisServer = await PrivateRedis.start(); // this file's own, so no other run shares its lists
after(() => redisServer.remove());
const REDIS_URL = redisServer.url();
const AMQP_URL = process.env.DBBEAT_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672/';
const SEP = '\x06\x16';

/** Args the worker must receive intact. */
function payloads(queue: string): TaskMessage[] {
  return [
    sampleMessage({ queue, args: [], kwargs: {} }),
    sampleMessage({ queue, args: ['ünïcødé', '日本語', '😀', "it's \"quoted\"\n"], kwargs: { ключ: 'значение' } }),
    sampleMessage({ queue, args: [{ a: { b: { c: { d: [1, 2.5, null, true] } } } }], kwargs: { list: [[[[]]]] } }),
    sampleMessage({ queue, args: ['x'.repeat(200_000), Array.from({ length: 2000 }, (_, i) => i)], kwargs: {} }),
    sampleMessage({ queue, task: 'dbbeat_test.other', args: [42], kwargs: { via: 'other' }, headers: { tenant: 'acme' } }),
  ];
}

async function checkExecutions(worker: Awaited<ReturnType<typeof startCeleryWorker>>, expected: TaskMessage[], queue: string): Promise<void> {
  const records = await worker.waitForRecords(expected.length, 30_000);
  for (const message of expected) {
    const record = records.find((r) => r.id === message.id);
    assert.ok(record, `task ${message.id} did not run`);
    assert.equal(record.task, message.task);
    assert.deepEqual(record.args, message.args);
    assert.deepEqual(record.kwargs, message.kwargs);
    assert.equal(record.routing_key, queue);
    assert.equal(record.periodic_task_name, message.periodicTaskName);
    assert.equal(record.dbbeat_scheduled_at, message.scheduledAt.toISOString());
  }
}

describe('a real Celery 5 worker executes what we publish', () => {
  test('Redis: priorities land in kombu lists, tasks run with their arguments, expired ones are discarded', async () => {
    const redis = new Redis(REDIS_URL);
    const broker = await connectBroker(REDIS_URL);
    const queue = uniqueQueue('dbbeat_celery');
    const byPriority = [0, 3, 7, 9].map((priority) => sampleMessage({ queue, priority, args: [priority] }));
    const expired = sampleMessage({ queue, expires: new Date(Date.now() - 60_000) });
    const messages = [...payloads(queue), ...byPriority];
    const ids = [...messages, expired].map((m) => m.id);
    let worker: Awaited<ReturnType<typeof startCeleryWorker>> | undefined;
    try {
      assert.ok((await broker.publish([...messages, expired])).every((o) => o.status === 'sent'));
      const lists = ['', `${SEP}3`, `${SEP}6`, `${SEP}9`].map((suffix) => `${queue}${suffix}`);
      assert.deepEqual(await Promise.all(lists.map((list) => redis.llen(list))), [payloads(queue).length + 2, 1, 1, 1]);

      worker = await startCeleryWorker({ brokerUrl: REDIS_URL, queues: [queue] });
      await checkExecutions(worker, messages, queue);
      await worker.waitForLog(new RegExp(`Discarding revoked task: dbbeat_test\\.record\\[${expired.id}\\]`), 15_000);
      const records = await worker.records();
      assert.equal(records.filter((r) => r.id === expired.id).length, 0, 'the expired task must not run');
      assert.deepEqual(
        byPriority.map((m) => records.find((r) => r.id === m.id)?.priority),
        [0, 3, 7, 9],
      );
      assert.ok(worker.running(), 'worker still running');
      assert.doesNotMatch(worker.log(), /Traceback|CRITICAL|Unrecoverable/);
    } finally {
      await worker?.stop();
      await redis.del(`${queue}`, `${queue}${SEP}3`, `${queue}${SEP}6`, `${queue}${SEP}9`, `_kombu.binding.${queue}`, ...ids.map((id) => `dbbeat:sent:${id}`));
      redis.disconnect();
      await broker.close();
    }
  });

  test('RabbitMQ: tasks run with their arguments on the right queue, expired ones never run', async () => {
    const admin = await amqp.connect(AMQP_URL);
    const channel = await admin.createChannel();
    const broker = await connectBroker(AMQP_URL);
    const queue = uniqueQueue('dbbeat_celery');
    const expired = sampleMessage({ queue, expires: new Date(Date.now() - 60_000) });
    const messages = [...payloads(queue), sampleMessage({ queue, priority: 200, args: ['high'] })];
    let worker: Awaited<ReturnType<typeof startCeleryWorker>> | undefined;
    try {
      // Declared first, as Celery does, so the worker's own declare matches ours.
      worker = await startCeleryWorker({ brokerUrl: AMQP_URL, queues: [queue] });
      assert.ok((await broker.publish([expired, ...messages])).every((o) => o.status === 'sent'));
      await checkExecutions(worker, messages, queue);
      const records = await worker.records();
      assert.equal(records.filter((r) => r.id === expired.id).length, 0, 'the expired task must not run');
      assert.ok(worker.running(), 'worker still running');
      assert.doesNotMatch(worker.log(), /Traceback|CRITICAL|PRECONDITION_FAILED/);
    } finally {
      await worker?.stop();
      await broker.close();
      await channel.deleteQueue(queue);
      await channel.deleteExchange(queue).catch(() => undefined);
      await admin.close().catch(() => undefined);
    }
  });
});
