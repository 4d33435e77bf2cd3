// The Redis envelope from a task version's template is byte for byte the envelope built in
// full (only kombu's random delivery tag differs), run after run, and a changed task
// version gets a new template.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { destinationOf } from '../../src/broker/message.js';
import { PyJsonText } from '../../src/broker/pyjson.js';
import { EnvelopeArena, SlabPool } from '../../src/broker/envelope-arena.js';
import {
  buildRedisEnvelope,
  prepareRedisEnvelope,
  redisEnvelope,
  writeRedisEnvelope,
} from '../../src/broker/redis-envelope.js';
import { DEFAULT_ROUTING, type RoutingSettings } from '../../src/broker/routing.js';
import type { TaskMessage } from '../../src/broker/types.js';

const TAG = /"delivery_tag":"[0-9a-f-]{36}"/;

function sameEnvelope(message: TaskMessage, now: Date, routing: RoutingSettings = DEFAULT_ROUTING): string {
  const destination = destinationOf(message, routing);
  const fast = redisEnvelope(message, destination, now);
  const full = buildRedisEnvelope(message, destination, now);
  assert.match(fast, TAG);
  assert.equal(fast.replace(TAG, ''), full.replace(TAG, ''));
  return fast;
}

function run(overrides: Partial<TaskMessage>): TaskMessage {
  return {
    id: 'f3b6c1de-0000-5000-8000-000000000001',
    task: 'app.tasks.report',
    args: PyJsonText.parse('[1, 2.0, "x", 123456789012345678901234567890]'),
    kwargs: PyJsonText.parse('{"a": NaN, "b": {"c": [1, 2]}}'),
    headers: PyJsonText.parse('{}'),
    queue: null,
    exchange: null,
    routingKey: null,
    priority: null,
    expires: null,
    periodicTaskName: 'nightly report',
    scheduledAt: new Date('2026-11-30T10:00:00.000Z'),
    ...overrides,
  };
}

describe('Redis envelope template', () => {
  test('equals the full build run after run, with and without expiry, scheduled time and name', () => {
    const args = PyJsonText.parse('["é", {"k": 1.0}]');
    const kwargs = PyJsonText.parse('{}');
    for (const variant of [
      {},
      { expires: new Date('2026-11-30T10:05:00.123Z') },
      { expires: new Date('2026-11-30T09:00:00.000Z') }, // already past: expiration 0
      { scheduledAt: null },
      { periodicTaskName: null },
      { priority: 7, queue: 'hi "there"' },
      { task: 'ünïcode\u2028task', args: PyJsonText.parse('[]') },
      { args: PyJsonText.parse('[1, "all ascii"]') }, // every piece ASCII: written as Latin-1
    ] satisfies Partial<TaskMessage>[]) {
      // One args object per task version: the second and third runs use its template.
      const version = { args: PyJsonText.parse(args.text), kwargs, ...variant };
      for (let n = 0; n < 3; n += 1) {
        const now = new Date(Date.UTC(2026, 10, 30, 10, 0, n, 500));
        sameEnvelope(run({ ...version, id: `id-${n}`, scheduledAt: version.scheduledAt === null ? null : now }), now);
      }
    }
  });

  test('a changed task name, kwargs or route on the same args object builds a new template', () => {
    const args = PyJsonText.parse('[1]');
    const now = new Date('2026-11-30T10:00:00.000Z');
    const first = sameEnvelope(run({ args }), now);
    const renamed = sameEnvelope(run({ args, task: 'app.tasks.other' }), now);
    assert.notEqual(first.replace(TAG, ''), renamed.replace(TAG, ''));
    sameEnvelope(run({ args, kwargs: PyJsonText.parse('{"z": 1}') }), now);
    sameEnvelope(run({ args, exchange: 'media', routingKey: 'video' }), now, {
      ...DEFAULT_ROUTING,
      routes: [],
    });
  });

  test('messages with headers of their own or an eta are built in full', () => {
    const now = new Date('2026-11-30T10:00:00.000Z');
    sameEnvelope(run({ headers: PyJsonText.parse('{"id": "spoof", "x": 1.0, "root_id": 5}') }), now);
    sameEnvelope(run({ eta: new Date('2026-11-30T11:00:00.000Z') }), now);
    sameEnvelope(run({ args: [1, 'plain array'], kwargs: { a: 1 }, headers: {} }), now);
  });

  test('bytes written run after run into one arena, across its slabs, cut after one or several, are the full build in UTF-8', () => {
    // Small slabs: envelopes land at every offset, some start a new slab; each earlier
    // view must stay intact while later ones are written.
    const arena = new EnvelopeArena(3000);
    const written: { bytes: Buffer; full: string }[] = [];
    const pending: { length: number; full: string }[] = [];
    const versions: Partial<TaskMessage>[] = [
      {},
      { task: 'tâches.😀.report', periodicTaskName: 'nächtlich «rapport» \u2028' },
      { args: PyJsonText.parse('["😀", 12345678901234567890123, -0.0, 1e400, "\\u0000"]') },
      { kwargs: PyJsonText.parse('{"ключ": "значение", "big": -98765432109876543210}') },
      { expires: new Date('2026-11-30T10:05:00.000Z') }, // whole second: no fraction
      { expires: new Date('2026-11-30T10:05:00.007Z'), scheduledAt: null },
      { priority: 4, queue: 'q' },
      { priority: 9, periodicTaskName: null },
    ];
    const ids = ['f3b6c1de-0000-5000-8000-000000000001', 'id-ünï', 'quote"and\\backslash', '', 'tab\there'];
    for (const variant of versions) {
      const version = { ...variant, args: PyJsonText.parse((variant.args as PyJsonText | undefined)?.text ?? '[1]') };
      for (let n = 0; n < 6; n += 1) {
        const now = new Date(Date.UTC(2026, 10, 30, 10, 0, n, 250));
        const message = run({ ...version, id: `${ids[n % ids.length]}${n}` });
        const destination = destinationOf(message);
        const length = writeRedisEnvelope(message, destination, now, arena);
        // Cut after each envelope, or after a few: what was written since the last cut is one view.
        if (n % 3 !== 2) {
          pending.push({ length, full: buildRedisEnvelope(message, destination, now) });
          continue;
        }
        pending.push({ length, full: buildRedisEnvelope(message, destination, now) });
        const view = arena.cut();
        let at = 0;
        for (const item of pending.splice(0)) {
          written.push({ bytes: view.subarray(at, at + item.length), full: item.full });
          at += item.length;
        }
        assert.equal(at, view.length);
      }
    }
    for (const { bytes, full } of written) {
      const text = bytes.toString('utf8');
      assert.match(text, TAG);
      assert.equal(text.replace(TAG, ''), full.replace(TAG, ''));
      assert.equal(bytes.length, Buffer.byteLength(text, 'utf8'));
    }
  });

  test('a pool hands a released slab to the next arena, never one still in use, and keeps no more than its size', () => {
    const pool = new SlabPool(256 * 1024);
    const now = new Date('2026-11-30T10:00:00.000Z');
    const write = (arena: EnvelopeArena, id: string) => {
      const message = run({ id });
      writeRedisEnvelope(message, destinationOf(message), now, arena);
      return { view: arena.cut(), full: buildRedisEnvelope(message, destinationOf(message), now) };
    };
    const first = new EnvelopeArena(1000, pool);
    const a = write(first, 'first');
    const second = new EnvelopeArena(1000, pool); // the first still in use: a slab of its own
    const b = write(second, 'second');
    assert.notEqual(a.view.buffer, b.view.buffer);
    assert.equal(a.view.toString('utf8').replace(TAG, ''), a.full.replace(TAG, ''));
    first.release();
    const third = new EnvelopeArena(1000, pool);
    const c = write(third, 'third');
    assert.equal(c.view.buffer, a.view.buffer, 'the released slab is reused');
    assert.equal(b.view.toString('utf8').replace(TAG, ''), b.full.replace(TAG, ''), 'the slab in use is untouched');
    assert.equal(c.view.toString('utf8').replace(TAG, ''), c.full.replace(TAG, ''));
    // Slabs beyond the pool's size are left to the GC: 64 KiB slabs, four fit in 256 KiB.
    const arenas = Array.from({ length: 6 }, (_, n) => {
      const arena = new EnvelopeArena(1000, pool);
      write(arena, `many-${n}`);
      return arena;
    });
    const buffers = new Set<ArrayBufferLike>();
    for (const arena of arenas) arena.release();
    for (let n = 0; n < 6; n++) buffers.add(write(new EnvelopeArena(1000, pool), `again-${n}`).view.buffer);
    assert.equal(buffers.size, 6, 'no slab is handed out twice');
  });

  test('a version prepared ahead sends, from its first run on, the bytes of the full build', () => {
    const arena = new EnvelopeArena(4096);
    for (const variant of [
      {},
      { expires: new Date('2026-11-30T10:05:00.007Z') },
      { headers: PyJsonText.parse('{"x": 1}') }, // headers of its own: no template, built in full
      { args: [1, 'plain array'], kwargs: { a: 1 }, headers: {} },
      { priority: 9, queue: 'q', periodicTaskName: 'nächtlich' },
    ] as Partial<TaskMessage>[]) {
      const args = variant.args ?? PyJsonText.parse('[12345678901234567890, 1.0, "😀"]');
      const prepared = run({ ...variant, args, id: '00000000-0000-5000-8000-000000000000' });
      prepareRedisEnvelope(prepared, destinationOf(prepared));
      prepareRedisEnvelope(prepared, destinationOf(prepared)); // twice: kept, not rebuilt wrongly
      for (let n = 0; n < 3; n++) {
        const now = new Date(Date.UTC(2026, 10, 30, 10, 0, n, 125));
        const message = run({ ...variant, args, id: `f3b6c1de-0000-5000-8000-00000000000${n}` });
        writeRedisEnvelope(message, destinationOf(message), now, arena);
        const text = arena.cut().toString('utf8');
        assert.equal(text.replace(TAG, ''), buildRedisEnvelope(message, destinationOf(message), now).replace(TAG, ''));
      }
    }
  });

  test('an envelope larger than a slab gets a slab of its own', () => {
    const arena = new EnvelopeArena(256);
    const now = new Date('2026-11-30T10:00:00.000Z');
    const args = PyJsonText.parse(JSON.stringify(['x'.repeat(5000)]));
    for (let n = 0; n < 3; n += 1) {
      const message = run({ args, id: `big-${n}` });
      writeRedisEnvelope(message, destinationOf(message), now, arena);
      const bytes = arena.cut();
      const full = buildRedisEnvelope(message, destinationOf(message), now);
      assert.equal(bytes.toString('utf8').replace(TAG, ''), full.replace(TAG, ''));
    }
  });
});
