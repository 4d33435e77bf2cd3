// The tests every broker adapter must pass. Each adapter's test file supplies
// how to read a queue back and how to clean it up, then calls runBrokerContract.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';

import { connectBroker } from '../../src/broker/index.js';
import type { Broker, TaskMessage } from '../../src/broker/types.js';

/** A message as read back from the broker, transport details removed. */
export interface ReadMessage {
  headers: Record<string, unknown>;
  body: [unknown[], Record<string, unknown>, Record<string, unknown>];
  contentType: string;
  contentEncoding: string;
  correlationId: string;
  priority: number;
  /** AMQP/kombu expiration (ms as text), when set. */
  expiration: string | undefined;
  /** Redis: the list it sat in; RabbitMQ: the queue. */
  location: string;
}

export interface BrokerFixture {
  name: string;
  url: string;
  /** A URL of the same scheme where nothing listens. */
  deadUrl: string;
  /** Whether a re-sent id is suppressed (Redis) or delivered again (RabbitMQ, at least once). */
  suppressesDuplicates: boolean;
  /** Every message waiting in `queue`, oldest first (removes them). */
  drain(queue: string): Promise<ReadMessage[]>;
  /** Deletes the queue and any keys the broker created for it and for `ids`. */
  cleanup(queue: string, ids: string[]): Promise<void>;
}

/** A unique queue name for one test. */
export function uniqueQueue(prefix = 'dbbeat_contract'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** A message with sensible defaults; ids are unique per call. */
export function sampleMessage(overrides: Partial<TaskMessage> = {}): TaskMessage {
  return {
    id: `dbbeat-test-${randomBytes(8).toString('hex')}`,
    task: 'dbbeat_test.record',
    args: [1, 'two', { three: [3] }],
    kwargs: { flag: true, name: 'zoë' },
    queue: null,
    exchange: null,
    routingKey: null,
    priority: null,
    headers: {},
    expires: null,
    periodicTaskName: 'contract task',
    scheduledAt: new Date('2026-11-26T12:00:00.000Z'),
    ...overrides,
  };
}

export function runBrokerContract(fixture: BrokerFixture): void {
  describe(`${fixture.name} broker contract`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    after(async () => {
      for (const cleanup of cleanups) await cleanup();
    });

    /** A connected broker and a fresh queue, both cleaned up after the suite. */
    async function setup(): Promise<{ broker: Broker; queue: string; ids: string[] }> {
      const broker = await connectBroker(fixture.url);
      const queue = uniqueQueue();
      const ids: string[] = [];
      cleanups.push(async () => {
        await fixture.cleanup(queue, ids);
        await broker.close();
      });
      return { broker, queue, ids };
    }

    test('publishes a batch: outcomes in order, messages readable with the protocol-2 fields', async () => {
      const { broker, queue, ids } = await setup();
      const messages = [0, 1, 2].map((n) => sampleMessage({ queue, args: [n, 'ünïcode ✓', { nested: [n] }] }));
      ids.push(...messages.map((m) => m.id));
      const outcomes = await broker.publish(messages);
      assert.deepEqual(
        outcomes,
        messages.map((m) => ({ id: m.id, status: 'sent' })),
      );
      const read = await fixture.drain(queue);
      assert.deepEqual(
        read.map((r) => r.headers['id']),
        ids,
      );
      read.forEach((r, n) => {
        assert.deepEqual(r.body, [
          [n, 'ünïcode ✓', { nested: [n] }],
          { flag: true, name: 'zoë' },
          { callbacks: null, errbacks: null, chain: null, chord: null },
        ]);
        assert.equal(r.contentType, 'application/json');
        assert.equal(r.contentEncoding, 'utf-8');
        assert.equal(r.correlationId, ids[n]);
        assert.equal(r.headers['task'], 'dbbeat_test.record');
        assert.equal(r.headers['lang'], 'py');
        assert.equal(r.headers['root_id'], ids[n]);
        assert.equal(r.headers['periodic_task_name'], 'contract task');
        assert.equal(r.headers['dbbeat_scheduled_at'], '2026-11-26T12:00:00.000Z');
        assert.equal(r.headers['argsrepr'], `[${n}, 'ünïcode ✓', {'nested': [${n}]}]`);
        assert.equal(r.headers['kwargsrepr'], "{'flag': True, 'name': 'zoë'}");
        assert.equal(r.headers['expires'], null);
        assert.equal(r.expiration, undefined);
        assert.equal(r.priority, 0);
      });
    });

    test(
      fixture.suppressesDuplicates
        ? 'a re-sent id is suppressed'
        : 'a re-sent id is delivered again (at least once), with the same id',
      async () => {
        const { broker, queue, ids } = await setup();
        const message = sampleMessage({ queue });
        ids.push(message.id);
        assert.deepEqual(await broker.publish([message]), [{ id: message.id, status: 'sent' }]);
        const again = await broker.publish([message, message]);
        const repeat = fixture.suppressesDuplicates ? 'duplicate' : 'sent';
        assert.deepEqual(again, [
          { id: message.id, status: repeat },
          { id: message.id, status: repeat },
        ]);
        const read = await fixture.drain(queue);
        assert.equal(read.length, fixture.suppressesDuplicates ? 1 : 3);
        for (const r of read) assert.equal(r.headers['id'], message.id);
      },
    );

    test('honours queue, priority, row headers and expires', async () => {
      const { broker, queue, ids } = await setup();
      const expires = new Date(Date.now() + 3_600_000);
      expires.setUTCMilliseconds(85);
      const message = sampleMessage({ queue, priority: 7, headers: { tenant: 'acme', id: 'not-the-id' }, expires });
      ids.push(message.id);
      const sentFrom = Date.now();
      await broker.publish([message]);
      const sentBy = Date.now();
      const [read] = await fixture.drain(queue);
      assert.ok(read);
      assert.equal(read.priority, 7);
      assert.equal(read.headers['tenant'], 'acme');
      assert.equal(read.headers['id'], message.id, 'row headers cannot replace the id');
      assert.equal(read.headers['expires'], `${expires.toISOString().slice(0, 19)}.085000+00:00`);
      const ttl = Number(read.expiration);
      // Milliseconds left until `expires` at the moment of sending (the milliseconds set
      // above move `expires` by up to a second either way, so bound it by the send itself).
      assert.ok(
        ttl <= expires.getTime() - sentFrom && ttl >= expires.getTime() - sentBy - 1,
        `expiration ${read.expiration}`,
      );
    });

    test('ping and publish fail cleanly, in bounded time, when nothing listens', async () => {
      const broker = await connectBroker(fixture.deadUrl);
      try {
        const started = Date.now();
        await assert.rejects(broker.ping(), /127\.0\.0\.1:1/);
        await assert.rejects(broker.publish([sampleMessage()]), /127\.0\.0\.1:1/);
        assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
      } finally {
        await broker.close();
      }
    });

    test('close is idempotent and later calls reject', async () => {
      const broker = await connectBroker(fixture.url);
      await broker.ping();
      await broker.close();
      await broker.close();
      await assert.rejects(broker.publish([sampleMessage()]), /closed/);
      await assert.rejects(broker.ping(), /closed/);
    });
  });
}
