// Messages built and published by our brokers, executed by a real Celery 5
// worker: right task, args, kwargs and queue; expired messages discarded; no
// message makes the worker crash. Each test starts and stops its own worker.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import amqp from 'amqplib';
import { Redis } from 'ioredis';

import { connectBroker } from '../../src/broker/index.js';
import { PyJsonText } from '../../src/broker/pyjson.js';
import type { TaskMessage } from '../../src/broker/types.js';
import { startCeleryWorker } from '../support/celery/worker.js';
import { PrivateRedis } from '../support/private-redis.js';
import { pythonView } from '../support/python-json.js';
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
    sampleMessage({ queue, args: ['ünïcødé', '日本語', '😀', 'it\'s "quoted"\n'], kwargs: { ключ: 'значение' } }),
    sampleMessage({ queue, args: [{ a: { b: { c: { d: [1, 2.5, null, true] } } } }], kwargs: { list: [[[[]]]] } }),
    sampleMessage({ queue, args: ['x'.repeat(200_000), Array.from({ length: 2000 }, (_, i) => i)], kwargs: {} }),
    sampleMessage({
      queue,
      task: 'dbbeat_test.other',
      args: [42],
      kwargs: { via: 'other' },
      headers: { tenant: 'acme' },
    }),
  ];
}

async function checkExecutions(
  worker: Awaited<ReturnType<typeof startCeleryWorker>>,
  expected: TaskMessage[],
  queue: string,
): Promise<void> {
  const records = await worker.waitForRecords(expected.length, 30_000);
  for (const message of expected) {
    const record = records.find((r) => r.id === message.id);
    assert.ok(record, `task ${message.id} did not run`);
    assert.equal(record.task, message.task);
    assert.deepEqual(record.args, message.args);
    assert.deepEqual(record.kwargs, message.kwargs);
    assert.equal(record.routing_key, queue);
    assert.equal(record.periodic_task_name, message.periodicTaskName);
    assert.equal(record.dbbeat_scheduled_at, message.scheduledAt?.toISOString());
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
      await redis.del(
        `${queue}`,
        `${queue}${SEP}3`,
        `${queue}${SEP}6`,
        `${queue}${SEP}9`,
        `_kombu.binding.${queue}`,
        ...ids.map((id) => `dbbeat:sent:${id}`),
      );
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

  // Rows as Python's json writes them; the worker must get json.loads of each,
  // type for type, and argsrepr must be Celery's saferepr of it.
  const ODD_ROWS = [
    {
      args: '[9007199254740993, 1.0, 1e16, -0.0, NaN, Infinity, -Infinity]',
      kwargs: '{"id": 18446744073709551617, "ratio": 2.50, "z": -0}',
    },
    { args: '[{"b": 1, "2": 2.0, "b": 3}, [0.1, 1e-7, 5e-324, 1E400]]', kwargs: '{}' },
    { args: '[]', kwargs: '{"x": [NaN], "n": 123456789012345678901234567890}' },
  ];
  const HEADERS =
    '{"x_big": 9007199254740993, "x_float": 1.0, "x_e16": 1e16, "x_negzero": -0.0, "x_list": [1, 2.0, "s"], "x_neg": -5, "x_byte": 200, "x_dict": {"k": 1.5}}';
  // RabbitMQ cannot decode NaN/Infinity in headers (see amqpHeaders); Redis carries them.
  const headersFor = (transport: string): string =>
    transport === 'Redis' ? HEADERS.replace('}', ', "x_nan": NaN, "x_inf": -Infinity}') : HEADERS;

  for (const transport of ['Redis', 'RabbitMQ'] as const) {
    test(`${transport}: args, kwargs and headers reach Python with the types and values json.loads gives`, async () => {
      const url = transport === 'Redis' ? REDIS_URL : AMQP_URL;
      const broker = await connectBroker(url);
      const redis = transport === 'Redis' ? new Redis(REDIS_URL) : null;
      const admin = transport === 'RabbitMQ' ? await amqp.connect(AMQP_URL) : null;
      const queue = uniqueQueue('dbbeat_types');
      const messages = ODD_ROWS.map((row) =>
        sampleMessage({
          queue,
          args: PyJsonText.parse(row.args),
          kwargs: PyJsonText.parse(row.kwargs),
          headers: PyJsonText.parse(headersFor(transport)),
        }),
      );
      let worker: Awaited<ReturnType<typeof startCeleryWorker>> | undefined;
      try {
        worker = await startCeleryWorker({ brokerUrl: url, queues: [queue] });
        const outcomes = await broker.publish(messages);
        assert.deepEqual(
          outcomes.map((o) => (o.status === 'failed' ? o.error.message : o.status)),
          messages.map(() => 'sent'),
        );
        const records = await worker.waitForRecords(messages.length, 30_000);
        const views = await pythonView(ODD_ROWS.flatMap((row) => [row.args, row.kwargs, headersFor(transport)]));
        messages.forEach((message, i) => {
          const record = records.find((r) => r.id === message.id);
          assert.ok(record, `task ${message.id} did not run`);
          const [args, kwargs, headers] = views.slice(3 * i, 3 * i + 3) as [
            (typeof views)[0],
            (typeof views)[0],
            (typeof views)[0],
          ];
          assert.deepEqual(record.typed, ['list', [args.typed, kwargs.typed]], ODD_ROWS[i]!.args);
          // Celery sends empty args as a tuple (as_task_v2: `args = args or ()`).
          assert.equal(record.argsrepr, ODD_ROWS[i]!.args === '[]' ? '()' : args.saferepr);
          assert.equal(record.kwargsrepr, kwargs.saferepr);
          assert.deepEqual(record.typed_headers, headers.typed);
        });
        assert.doesNotMatch(worker.log(), /Traceback|CRITICAL/);
        if (transport === 'RabbitMQ') {
          const nan = sampleMessage({ queue, headers: PyJsonText.parse('{"x_nan": NaN}') });
          const [outcome] = await broker
            .publish([nan, sampleMessage({ queue })])
            .then((o) => [o[0], assert.equal(o[1]?.status, 'sent')]);
          assert.match(
            outcome?.status === 'failed' ? outcome.error.message : '',
            /headers\.x_nan: nan cannot travel in an AMQP header/,
          );
        }
      } finally {
        await worker?.stop();
        await broker.close();
        if (redis) {
          await redis.del(queue, `_kombu.binding.${queue}`, ...messages.map((m) => `dbbeat:sent:${m.id}`));
          redis.disconnect();
        }
        if (admin) {
          const channel = await admin.createChannel();
          await channel.deleteQueue(queue);
          await admin.close().catch(() => undefined);
        }
      }
    });
  }
});
