// The pure parts of the worker check, without a broker: reply parsing, whether a run routed
// as Celery routes it lands in a queue a worker consumes (default exchange, direct, topic,
// fanout, task_routes), and the worker view's cache (a clock passed in).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { DEFAULT_ROUTING } from '../../src/broker/routing.js';
import {
  type RemoteControl,
  type Replies,
  activeQueues,
  addReply,
  registeredTasks,
  taskNameOf,
} from '../../src/outcomes/remote-control.js';
import { WorkerDirectory, type WorkerInfo, registrationOf } from '../../src/outcomes/remote-control-workers.js';

/** A RemoteControl answering from a table, counting the calls. */
function fakeControl(answers: Record<string, Record<string, unknown>>): RemoteControl & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    broadcast(command) {
      calls.push(command);
      const replies: Replies = new Map();
      addReply(replies, answers[command] ?? {});
      return Promise.resolve(replies);
    },
    close: () => Promise.resolve(),
  };
}

const queue = (name: string, exchange = name, exchangeType = 'direct', routingKey = name) => ({
  name,
  exchange,
  exchangeType,
  routingKey,
});

describe('remote control replies', () => {
  test('registered: names cut before Celery\'s " [field=value …]", non-strings dropped', async () => {
    assert.equal(taskNameOf('proj.add [rate_limit=10/s]'), 'proj.add');
    assert.equal(taskNameOf('proj.add [exchange=x routing_key=y]'), 'proj.add');
    assert.equal(taskNameOf('proj.add'), 'proj.add');
    const control = fakeControl({
      registered: { 'a@h': ['proj.add [rate_limit=1/s]', 'proj.mul', 7], 'b@h': { error: "KeyError('x')" } },
    });
    assert.deepEqual(Object.fromEntries(await registeredTasks(control)), { 'a@h': ['proj.add', 'proj.mul'] });
  });

  test('active_queues: name, exchange, type and routing key from kombu Queue.as_dict', async () => {
    const control = fakeControl({
      active_queues: {
        'a@h': [
          { name: 'q', exchange: { name: 'ex', type: 'topic' }, routing_key: 'a.#', durable: true },
          { name: 'plain' },
          'junk',
        ],
      },
    });
    assert.deepEqual(Object.fromEntries(await activeQueues(control)), {
      'a@h': [
        queue('q', 'ex', 'topic', 'a.#'),
        { name: 'plain', exchange: '', exchangeType: 'direct', routingKey: '' },
      ],
    });
  });
});

describe('registrationOf', () => {
  const worker = (queues: WorkerInfo['queues'], registered = ['proj.add']): WorkerInfo => ({
    hostname: 'w@h',
    queues,
    registered,
  });
  const row = (task: string, fields: { queue?: string; exchange?: string; routingKey?: string } = {}) => ({
    task,
    queue: fields.queue ?? null,
    exchange: fields.exchange ?? null,
    routingKey: fields.routingKey ?? null,
  });

  test('by queue name, the default queue, and no worker at all', () => {
    const workers = [worker([queue('celery')])];
    assert.equal(registrationOf(row('proj.add'), workers), 'registered');
    assert.equal(registrationOf(row('proj.ad'), workers), 'unregistered');
    assert.equal(registrationOf(row('proj.add', { queue: 'other' }), workers), 'no worker for queue');
    assert.equal(registrationOf(row('proj.add'), []), 'unknown');
  });

  test('one worker registers it, another consumes the queue: unregistered (the consumer discards it)', () => {
    const workers = [worker([queue('a')], ['proj.add']), { ...worker([queue('b')], []), hostname: 'x@h' }];
    assert.equal(registrationOf(row('proj.add', { queue: 'b' }), workers), 'unregistered');
    assert.equal(registrationOf(row('proj.add', { queue: 'a' }), workers), 'registered');
  });

  test('exchange and routing key: direct, topic and fanout bindings', () => {
    const workers = [
      worker([queue('d', 'direct_ex', 'direct', 'key'), queue('t', 'topic_ex', 'topic', 'reports.*.daily')]),
    ];
    const via = (exchange: string, routingKey: string) =>
      registrationOf(row('proj.add', { exchange, routingKey }), workers);
    assert.equal(via('direct_ex', 'key'), 'registered');
    assert.equal(via('direct_ex', 'other'), 'no worker for queue');
    assert.equal(via('topic_ex', 'reports.eu.daily'), 'registered');
    assert.equal(via('topic_ex', 'reports.eu.weekly'), 'no worker for queue');
    const fanout = [worker([queue('f', 'fan', 'fanout', '')])];
    assert.equal(registrationOf(row('proj.add', { exchange: 'fan', routingKey: 'x' }), fanout), 'registered');
    const hash = [worker([queue('h', 'topic_ex', 'topic', 'reports.#')])];
    assert.equal(registrationOf(row('proj.add', { exchange: 'topic_ex', routingKey: 'reports' }), hash), 'registered');
    assert.equal(
      registrationOf(row('proj.add', { exchange: 'topic_ex', routingKey: 'reports.a.b' }), hash),
      'registered',
    );
  });

  test('task_routes decide the queue when the row names none', () => {
    const routing = { ...DEFAULT_ROUTING, routes: [{ 'proj.*': 'math' }] };
    const workers = [worker([queue('celery')])];
    assert.equal(registrationOf(row('proj.add'), workers, routing), 'no worker for queue');
    assert.equal(registrationOf(row('proj.add'), [worker([queue('math')])], routing), 'registered');
    // The row's own queue wins over task_routes.
    assert.equal(registrationOf(row('proj.add', { queue: 'celery' }), workers, routing), 'registered');
  });
});

describe('WorkerDirectory', () => {
  test('reuses an answer for the TTL, asks again after it, shares a question in flight', async () => {
    const control = fakeControl({
      registered: { 'w@h': ['proj.add'] },
      active_queues: {
        'w@h': [{ name: 'celery', exchange: { name: 'celery', type: 'direct' }, routing_key: 'celery' }],
      },
    });
    let now = Date.parse('2026-01-01T00:00:00Z');
    const directory = new WorkerDirectory(control, { ttlMs: 5000, now: () => new Date(now) });
    const [first, same] = await Promise.all([directory.current(), directory.current()]);
    assert.equal(first, same);
    assert.deepEqual(control.calls.sort(), ['active_queues', 'registered']);
    assert.deepEqual(first.workers, [{ hostname: 'w@h', queues: [queue('celery')], registered: ['proj.add'] }]);
    now += 4999;
    assert.equal(await directory.current(), first);
    assert.equal(control.calls.length, 2);
    now += 1;
    await directory.current();
    assert.equal(control.calls.length, 4);
    await directory.current({ refresh: true });
    assert.equal(control.calls.length, 6);
  });

  test('a broker that cannot be asked gives no workers and the error, not a rejection', async () => {
    const failing: RemoteControl = {
      broadcast: () => Promise.reject(new Error('remote control: Redis at redis://127.0.0.1:1/0 is unreachable')),
      close: () => Promise.resolve(),
    };
    const snapshot = await new WorkerDirectory(failing).current();
    assert.deepEqual(snapshot.workers, []);
    assert.match(snapshot.error ?? '', /unreachable/);
  });
});
