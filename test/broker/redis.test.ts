// The broker contract on Redis, plus kombu details: priority lists, bindings,
// exchange routing through _kombu.binding.* sets.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { Redis } from 'ioredis';

import { connectBroker } from '../../src/broker/index.js';
import { DEFAULT_ROUTING } from '../../src/broker/routing.js';
import { priorityListName } from '../../src/broker/redis.js';
import { PrivateRedis } from '../support/private-redis.js';
import { runBrokerContract, sampleMessage, uniqueQueue, type ReadMessage } from './contract.js';

// A redis-server of this file's own: nothing here touches the shared one.
const server = await PrivateRedis.start();
const REDIS_URL = server.url();
const SEP = '\x06\x16';
const redis = new Redis(REDIS_URL, { lazyConnect: true });
after(async () => {
  redis.disconnect();
  await server.remove();
});

interface Envelope {
  body: string;
  'content-type': string;
  'content-encoding': string;
  headers: Record<string, unknown>;
  properties: Record<string, unknown> & { priority: number; correlation_id: string; expiration?: string };
}

const listsOf = (queue: string): string[] => [queue, `${queue}${SEP}3`, `${queue}${SEP}6`, `${queue}${SEP}9`];

async function drain(queue: string): Promise<ReadMessage[]> {
  const read: ReadMessage[] = [];
  for (const list of listsOf(queue)) {
    const items = await redis.lrange(list, 0, -1);
    await redis.del(list);
    for (const item of items.reverse()) {
      const envelope = JSON.parse(item) as Envelope;
      assert.equal(envelope.properties['body_encoding'], 'base64');
      assert.equal(envelope.properties['delivery_mode'], 2);
      assert.match(String(envelope.properties['delivery_tag']), /^[0-9a-f-]{36}$/);
      assert.deepEqual(envelope.properties['delivery_info'], { exchange: '', routing_key: queue });
      read.push({
        headers: envelope.headers,
        body: JSON.parse(Buffer.from(envelope.body, 'base64').toString('utf8')) as ReadMessage['body'],
        contentType: envelope['content-type'],
        contentEncoding: envelope['content-encoding'],
        correlationId: envelope.properties.correlation_id,
        priority: envelope.properties.priority,
        expiration: envelope.properties.expiration,
        location: list,
      });
    }
  }
  return read;
}

async function cleanup(queue: string, ids: string[]): Promise<void> {
  await redis.del(...listsOf(queue), `_kombu.binding.${queue}`, ...ids.map((id) => `dbbeat:sent:${id}`));
}

runBrokerContract({
  name: 'Redis',
  url: REDIS_URL,
  deadUrl: 'redis://127.0.0.1:1/0',
  suppressesDuplicates: true,
  drain,
  cleanup,
});

describe('Redis specifics', () => {
  test('priority p goes to the largest kombu step not above it, capped at 9', () => {
    const expected: Array<[number | null, string]> = [
      [null, 'q'],
      [0, 'q'],
      [2, 'q'],
      [3, `q${SEP}3`],
      [5, `q${SEP}3`],
      [6, `q${SEP}6`],
      [9, `q${SEP}9`],
      [200, `q${SEP}9`],
    ];
    for (const [priority, list] of expected) assert.equal(priorityListName('q', priority), list, String(priority));
  });

  test('messages land in the priority lists, the binding is recorded, the dedupe marker has the TTL', async () => {
    const broker = await connectBroker(REDIS_URL, { dedupeTtlSeconds: 120 });
    const queue = uniqueQueue();
    const messages = [0, 4, 8, 255].map((priority) => sampleMessage({ queue, priority }));
    try {
      await broker.publish(messages);
      assert.deepEqual(await Promise.all(listsOf(queue).map((list) => redis.llen(list))), [1, 1, 1, 1]);
      assert.deepEqual(await redis.smembers(`_kombu.binding.${queue}`), [`${queue}${SEP}${SEP}${queue}`]);
      const ttl = await redis.ttl(`dbbeat:sent:${messages[0]?.id}`);
      assert.ok(ttl > 100 && ttl <= 120, `ttl ${ttl}`);
      const read = await drain(queue);
      assert.deepEqual(
        read.map((r) => r.priority),
        [0, 4, 8, 255],
      );
    } finally {
      await cleanup(
        queue,
        messages.map((m) => m.id),
      );
      await broker.close();
    }
  });

  test('a message with exchange and routing key goes to the queues bound to it, else to the queue Celery declares', async () => {
    // Celery routes a task with exchange and routing key but no queue to the
    // default queue's declaration; dbbeat delivers there when nothing is bound.
    const defaultQueue = uniqueQueue('dbbeat_default');
    const broker = await connectBroker(REDIS_URL, { routing: { ...DEFAULT_ROUTING, defaultQueue } });
    const exchange = uniqueQueue('dbbeat_exchange');
    const bound = uniqueQueue();
    await redis.sadd(`_kombu.binding.${exchange}`, ['key_a', '', bound].join(SEP));
    const toBound = sampleMessage({ exchange, routingKey: 'key_a' });
    const toFallback = sampleMessage({ exchange, routingKey: 'key_nobody_binds' });
    try {
      await broker.publish([toBound, toFallback]);
      const [boundItem] = await redis.lrange(bound, 0, -1);
      const envelope = JSON.parse(boundItem ?? '{}') as Envelope;
      assert.equal(envelope.headers['id'], toBound.id);
      assert.deepEqual(envelope.properties['delivery_info'], { exchange, routing_key: 'key_a' });
      assert.equal(await redis.llen(defaultQueue), 1);
      assert.equal(await redis.llen(bound), 1);
      assert.deepEqual(await redis.smembers(`_kombu.binding.${defaultQueue}`), [
        [defaultQueue, '', defaultQueue].join(SEP),
      ]);
    } finally {
      await redis.del(`_kombu.binding.${exchange}`);
      await cleanup(bound, [toBound.id]);
      await cleanup(defaultQueue, [toFallback.id]);
      assert.equal(await redis.exists('_kombu.binding.key_nobody_binds'), 0, 'no binding for a queue not used');
      await broker.close();
    }
  });

  test('a refused push fails only the messages for that list, removes their markers, and keeps the order of the rest', async () => {
    const broker = await connectBroker(REDIS_URL);
    const good = uniqueQueue();
    const bad = uniqueQueue();
    await redis.set(bad, 'not a list'); // LPUSH onto it: WRONGTYPE
    // Runs of one list alternate; an id comes twice in a row for the bad list (the repeat
    // is refused as its first copy was, not taken for a duplicate), and the first bad id
    // comes again for the good list after its first copy was refused (it goes out).
    const messages = [
      sampleMessage({ queue: good, args: [1] }),
      sampleMessage({ queue: good, args: [2] }),
      sampleMessage({ queue: bad, args: [3] }),
      sampleMessage({ queue: bad, args: [4] }),
    ];
    messages.push({ ...messages[3]!, args: [4.5] });
    messages.push(sampleMessage({ queue: good, args: [5] }));
    messages.push({ ...messages[2]!, queue: good, args: [6] });
    messages.push(sampleMessage({ queue: good, args: [7] }));
    try {
      const outcomes = await broker.publish(messages);
      assert.deepEqual(
        outcomes.map((outcome) => outcome.status),
        ['sent', 'sent', 'failed', 'failed', 'failed', 'sent', 'sent', 'sent'],
      );
      for (const outcome of outcomes.slice(2, 5)) {
        assert.ok(outcome.status === 'failed');
        assert.match(outcome.error.message, /WRONGTYPE/);
      }
      assert.equal(await redis.exists(`dbbeat:sent:${messages[3]!.id}`), 0, 'a refused message keeps no marker');
      assert.deepEqual(
        (await drain(good)).map((read) => read.body[0]),
        [[1], [2], [5], [6], [7]],
      );
      // Once the list is usable, the refused message goes out; a repeat of a sent one does not.
      await redis.del(bad);
      const again = await broker.publish([messages[3]!, messages[0]!]);
      assert.deepEqual(
        again.map((outcome) => outcome.status),
        ['sent', 'duplicate'],
      );
      assert.equal(await redis.llen(bad), 1);
    } finally {
      await cleanup(
        good,
        messages.map((m) => m.id),
      );
      await cleanup(bad, []);
      await broker.close();
    }
  });

  test('task_routes and the default queue settings decide the list, as in Celery', async () => {
    const defaultQueue = uniqueQueue('dbbeat_default');
    const routed = uniqueQueue('dbbeat_routed');
    const routing = { ...DEFAULT_ROUTING, defaultQueue, routes: [{ 'proj.reports.*': routed }] };
    const broker = await connectBroker(REDIS_URL, { routing });
    const messages = [
      sampleMessage({ task: 'proj.reports.daily' }),
      sampleMessage({ task: 'proj.other' }),
      sampleMessage({ task: 'proj.other', routingKey: 'no_worker_reads_this' }),
    ];
    try {
      await broker.publish(messages);
      assert.equal(await redis.llen(routed), 1);
      assert.equal(await redis.llen(defaultQueue), 2);
      assert.equal(await redis.exists('no_worker_reads_this'), 0);
    } finally {
      await cleanup(routed, [messages[0]!.id]);
      await cleanup(
        defaultQueue,
        messages.slice(1).map((m) => m.id),
      );
      await broker.close();
    }
  });
});
