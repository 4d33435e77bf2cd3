// The Redis broker writes its envelopes into slabs reused from one publish to the next
// (src/broker/envelope-arena.ts). A slab goes back to the pool only once Redis has answered
// every command that carries a view of it: until then ioredis may still read it, to write a
// command that waited in its offline queue (connecting, reconnecting) or to write it again
// after a reconnect. Here, publishes of every size overlap, across a connection cut and the
// first connect, and every envelope that lands in Redis is byte for byte the one built in
// full; and the slabs of a publish that failed are never handed to a later one. That last
// rule shows in no envelope (ioredis copies a command's bytes when it writes them, and a
// pipeline settles only once all its commands have), so spies on the pool watch it.
import assert from 'node:assert/strict';
import { after, afterEach, describe, mock, test } from 'node:test';

import { Redis } from 'ioredis';

import { SlabPool } from '../../src/broker/envelope-arena.js';
import { connectBroker } from '../../src/broker/index.js';
import { destinationOf } from '../../src/broker/message.js';
import { buildRedisEnvelope } from '../../src/broker/redis-envelope.js';
import { DEFAULT_ROUTING } from '../../src/broker/routing.js';
import type { Broker, TaskMessage } from '../../src/broker/types.js';
import { PrivateRedis } from '../support/private-redis.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { sampleMessage, uniqueQueue } from './contract.js';

// A redis-server of this file's own, reached through a proxy the tests cut and restore.
const server = await PrivateRedis.start();
const proxy = await TcpProxy.start('127.0.0.1', server.port);
const redis = new Redis(server.url(), { lazyConnect: true });
after(async () => {
  redis.disconnect();
  await proxy.close();
  await server.remove();
});

/** kombu's delivery tag, random per envelope: the one part left out of the comparison. */
const TAG = /"delivery_tag":"[0-9a-f-]{36}"/;
/** Where the envelope names its task id (headers.id). */
const ID = /"id":"(dbbeat-test-[0-9a-f]{16})"/;

/** Non-ASCII text of about `bytes` UTF-8 bytes: 1, 2, 3 and 4 bytes a character. */
function mixedText(bytes: number): string {
  const unit = 'aé漢🎉'; // 1 + 2 + 3 + 4 bytes
  return unit.repeat(Math.ceil(bytes / 10));
}

/** A batch of `count` messages for `queue`, each with about `argBytes` of non-ASCII args. */
function batch(queue: string, count: number, argBytes: number): TaskMessage[] {
  return Array.from({ length: count }, (_, index) =>
    sampleMessage({
      queue,
      args: [index, mixedText(argBytes)],
      kwargs: { name: 'zoë', n: index },
      periodicTaskName: `tâche ${index} 🎉`,
    }),
  );
}

/** Checks every envelope in `queue` against the full build of its message (the tag aside), byte for byte. */
async function assertEnvelopes(queue: string, messages: readonly TaskMessage[]): Promise<void> {
  const expected = new Map<string, string>();
  // No message here expires, so the time of the build does not show in the envelope.
  const now = new Date();
  for (const message of messages) {
    const envelope = Buffer.from(buildRedisEnvelope(message, destinationOf(message, DEFAULT_ROUTING), now), 'utf8');
    expected.set(message.id, envelope.toString('latin1').replace(TAG, ''));
  }
  const items = await redis.lrangeBuffer(queue, 0, -1);
  assert.equal(items.length, messages.length, 'one envelope per message');
  const seen = new Set<string>();
  for (const item of items) {
    const bytes = item.toString('latin1'); // one character per byte: compared byte for byte
    const id = ID.exec(bytes)?.[1];
    assert.ok(id !== undefined && expected.has(id), `an envelope names a message sent: ${bytes.slice(0, 300)}`);
    assert.ok(!seen.has(id), `${id} pushed once`);
    seen.add(id);
    assert.ok(
      bytes.replace(TAG, '') === expected.get(id),
      `the envelope of ${id} (${item.length} bytes) is the one built in full`,
    );
  }
}

async function cleanup(queue: string, messages: readonly TaskMessage[]): Promise<void> {
  await redis.del(queue, `_kombu.binding.${queue}`, ...messages.map((m) => `dbbeat:sent:${m.id}`));
}

describe('Redis envelope slabs', () => {
  let broker: Broker | undefined;
  afterEach(async () => {
    mock.restoreAll();
    await proxy.restore();
    await broker?.close();
    broker = undefined;
  });

  test('publishes of every size, overlapping, across the first connect and connection cuts: every envelope lands intact', async () => {
    broker = await connectBroker(proxy.rewrite(server.url()));
    const queue = uniqueQueue('dbbeat_slabs');
    // Small batches, batches over 64 KiB (the smallest slab), one envelope over 64 KiB alone.
    const shapes: [count: number, argBytes: number][] = [
      [3, 40],
      [60, 1200],
      [1, 90_000],
      [12, 300],
      [200, 500],
      [2, 40_000],
    ];
    const sent: TaskMessage[] = [];
    for (let round = 0; round < 24; round++) {
      // Every fourth round starts while the connection is down: the commands wait in ioredis's
      // offline queue, or are written again after the reconnect, reading their slabs late.
      // (Round 0 runs before the broker's first connect: the same wait.)
      const cut = round % 4 === 3;
      if (cut) await proxy.cut();
      const publishes = [0, 1, 2].map((slot) => {
        const [count, argBytes] = shapes[(round * 5 + slot * 7) % shapes.length]!;
        const messages = batch(queue, count, argBytes);
        sent.push(...messages);
        return broker!.publish(messages);
      });
      if (cut) await proxy.restore();
      for (const outcomes of await Promise.all(publishes))
        for (const outcome of outcomes) assert.equal(outcome.status, 'sent', `${outcome.id} sent`);
    }
    try {
      await assertEnvelopes(queue, sent);
    } finally {
      await cleanup(queue, sent);
    }
  });

  test('the slabs of a publish that failed are not given back, and no later publish writes into them', async () => {
    // Spies (the pool's own methods still run): which slabs each publish took and gave back.
    const takes = mock.method(SlabPool.prototype, 'take');
    const gives = mock.method(SlabPool.prototype, 'give');
    const taken = () => takes.mock.calls.map((call) => call.result!);
    const given = () => gives.mock.calls.flatMap((call) => call.arguments[0]);
    broker = await connectBroker(proxy.rewrite(server.url()));
    const queue = uniqueQueue('dbbeat_slabs');
    const first = batch(queue, 20, 2000);
    assert.ok((await broker.publish(first)).every(({ status }) => status === 'sent'));
    assert.deepEqual(given(), taken(), 'an answered publish gives its slabs back');

    // Redis is out of reach for longer than the client's retries: the publish fails.
    await proxy.cut();
    const failed = batch(queue, 20, 2000);
    const takenBefore = taken().length;
    const givenBefore = given().length;
    await assert.rejects(broker.publish(failed));
    const failedSlabs = taken().slice(takenBefore);
    assert.ok(failedSlabs.length > 0, 'the failed publish wrote into a slab');
    assert.equal(given().length, givenBefore, 'its slabs are not given back');

    await proxy.restore();
    const later: TaskMessage[] = [];
    for (let round = 0; round < 5; round++) {
      const messages = batch(queue, 20, 2000);
      later.push(...messages);
      assert.ok((await broker.publish(messages)).every(({ status }) => status === 'sent'));
    }
    assert.ok(
      !taken()
        .slice(takenBefore + failedSlabs.length)
        .some((slab) => failedSlabs.includes(slab)),
      'no later publish was handed one',
    );
    assert.ok(!given().some((slab, index) => index >= givenBefore && failedSlabs.includes(slab)), 'never given back');
    try {
      await assertEnvelopes(queue, [...first, ...later]);
    } finally {
      await cleanup(queue, [...first, ...failed, ...later]);
    }
  });
});
