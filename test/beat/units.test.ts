// Unit tests of the beat's pure parts: the run queue, the run rules (nextSlot,
// recordedLastRun), task ids, settings and the URL redactor. No services, no time.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { recordedLastRun } from '../../src/beat/dispatch.js';
import { PrepareAhead } from '../../src/beat/prepare-ahead.js';
import { RunQueue } from '../../src/beat/run-queue.js';
import { SlotIndex } from '../../src/beat/slot-index.js';
import { runTaskId } from '../../src/beat/task-id.js';
import { nextSlot, ScheduleRef, TaskTable, type TaskVersion } from '../../src/beat/task-table.js';
import { PyJsonText } from '../../src/broker/pyjson.js';
import { OptionsError, resolveConfig } from '../../src/config.js';
import { redactUrl } from '../../src/redact-url.js';
import { buildSchedule } from '../../src/schedules/index.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const S = 1000;
const MIN = 60 * S;

describe('RunQueue', () => {
  test('pops due runs earliest first, at most `limit`, and leaves later ones', () => {
    const queue = new RunQueue();
    queue.set(1, 300);
    queue.set(2, 100);
    queue.set(3, 200);
    queue.set(4, 900);
    assert.equal(queue.peekTime(), 100);
    assert.deepEqual(queue.popDue(250, 10), [2, 3]);
    assert.deepEqual(queue.popDue(1000, 1), [1]);
    assert.equal(queue.size, 1);
    assert.deepEqual(queue.popDue(899, 10), []);
    assert.deepEqual(queue.popDue(900, 10), [4]);
    assert.equal(queue.peekTime(), undefined);
  });

  test('set moves a task (earlier or later); delete removes it from anywhere in the heap', () => {
    const queue = new RunQueue();
    for (let id = 1; id <= 50; id++) queue.set(id, id * 10);
    queue.set(40, 5); // earlier
    queue.set(1, 1000); // later
    queue.delete(25);
    queue.delete(999); // unknown: nothing happens
    assert.equal(queue.has(25), false);
    const order = queue.popDue(Infinity, 100);
    assert.equal(order[0], 40);
    assert.equal(order[order.length - 1], 1);
    assert.equal(order.length, 49);
    const times = order.map((id) => (id === 40 ? 5 : id === 1 ? 1000 : id * 10));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
    );
  });

  test('deferred ordering: appended unordered, built once on the next read, popped in time order', () => {
    const queue = new RunQueue();
    const due = new Map<number, number>();
    queue.defer();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const set = (handle: number, at: number) => {
      queue.set(handle, at);
      due.set(handle, at);
    };
    for (let handle = 0; handle < 2000; handle++) set(handle, random() % 500);
    for (let handle = 0; handle < 2000; handle += 7) {
      queue.delete(handle);
      due.delete(handle);
      set(handle + 1, 1000 + handle); // moved while unordered
    }
    assert.equal(queue.peekTime(), Math.min(...due.values()));
    set(5000, -1); // ordered again: sifted in
    const times = queue.popDue(Infinity, 5000).map((handle) => due.get(handle)!);
    assert.equal(times.length, due.size);
    assert.deepEqual(
      times,
      [...due.values()].sort((a, b) => a - b),
    );
  });

  test('dueBetween: the handles due in (after, until], at most limit, the queue left as it was', () => {
    const queue = new RunQueue();
    // A seeded shuffle of times 1..500 (some equal), deferred and not, so the heap has every shape.
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const times = new Map<number, number>();
    for (let handle = 0; handle < 500; handle++) times.set(handle, 1 + Math.floor(random() * 400));
    queue.defer();
    for (const [handle, time] of [...times].slice(0, 250)) queue.set(handle, time);
    for (const [handle, time] of [...times].slice(250)) queue.set(handle, time);
    const expected = (after: number, until: number) =>
      [...times]
        .filter(([, time]) => time > after && time <= until)
        .map(([handle]) => handle)
        .sort((a, b) => a - b);
    for (const [after, until] of [
      [-Infinity, 0],
      [-Infinity, 50],
      [50, 51],
      [100, 300],
      [399, Infinity],
    ] as const) {
      const found = queue.dueBetween(after, until, 1000).sort((a, b) => a - b);
      assert.deepEqual(found, expected(after, until), `(${after}, ${until}]`);
    }
    const limited = queue.dueBetween(-Infinity, 200, 10);
    assert.equal(limited.length, 10);
    for (const handle of limited) assert.ok(times.get(handle)! <= 200);
    assert.equal(queue.size, 500, 'nothing removed');
    const popped = queue.popDue(Infinity, 500);
    assert.deepEqual(
      popped.map((handle) => times.get(handle)),
      [...times.values()].sort((a, b) => a - b),
      'still a heap: popped in time order',
    );
  });

  test('clear empties it', () => {
    const queue = new RunQueue();
    queue.set(1, 1);
    queue.clear();
    assert.equal(queue.size, 0);
    assert.deepEqual(queue.popDue(Infinity, 10), []);
  });
});

describe('PrepareAhead', () => {
  const queueOf = (times: number[]) => {
    const queue = new RunQueue();
    times.forEach((time, handle) => queue.set(handle, time));
    return queue;
  };

  test('prepares each run due by the next run + 2 s once, and nothing later', () => {
    const queue = queueOf([1000, 1500, 2999, 3000, 3001, 9000]);
    const prepared: number[] = [];
    const ahead = new PrepareAhead(queue, (id) => prepared.push(id));
    assert.equal(ahead.work(1000, 1000 - 10_001), false, 'the next run more than 10 s away: not yet');
    assert.deepEqual(prepared, []);
    while (ahead.work(1000, 0));
    assert.deepEqual(
      prepared.sort((a, b) => a - b),
      [0, 1, 2, 3],
      'due at or before 3000',
    );
    assert.equal(ahead.work(1000, 0), false, 'the same horizon: nothing more');
    while (ahead.work(7000, 0));
    assert.deepEqual(
      prepared.sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5],
      'a later horizon adds only the new runs',
    );
    assert.equal(queue.size, 6, 'the queue is left as it was');
    assert.equal(ahead.work(undefined, 0), false, 'nothing scheduled: no work');
  });

  test('at most 20,000 runs for one horizon, a slice at a time; reset starts over', () => {
    const queue = queueOf(Array.from({ length: 25_000 }, () => 500));
    let prepared = 0;
    const ahead = new PrepareAhead(queue, () => prepared++);
    let slices = 0;
    while (ahead.work(0, 0)) slices++;
    assert.equal(prepared, 20_000);
    assert.ok(slices >= 1);
    ahead.reset();
    while (ahead.work(0, 0));
    assert.equal(prepared, 40_000, 'after a reset (a full load) the runs are prepared again');
  });
});

describe('nextSlot', () => {
  const every60 = buildSchedule({ kind: 'interval', every: 60, period: 'seconds' });
  const every10 = buildSchedule({ kind: 'interval', every: 10, period: 'seconds' });
  const hourly = buildSchedule({
    kind: 'crontab',
    minute: '0',
    hour: '*',
    dayOfWeek: '*',
    dayOfMonth: '*',
    monthOfYear: '*',
    timezone: 'UTC',
  });
  const T = at('2030-01-07T10:00:00Z');

  test("without start_time: the schedule's next run after the base", () => {
    assert.equal(iso(nextSlot(every60, T, null)), '2030-01-07T10:01:00.000Z');
    assert.equal(iso(nextSlot(every60, T, null, true)), '2030-01-07T10:01:00.000Z'); // never run: date_changed + every
    assert.equal(iso(nextSlot(hourly, T + 1, null)), '2030-01-07T11:00:00.000Z');
  });

  test('interval with start_time: the later of start_time and last run + every', () => {
    // Never run: at start_time itself, not one interval after it.
    assert.equal(iso(nextSlot(every60, T - 30 * S, T, true)), '2030-01-07T10:00:00.000Z');
    assert.equal(iso(nextSlot(every60, T + 30 * MIN, T, true)), '2030-01-07T10:00:00.000Z');
    // Last run T - 15 s, every 10 s: start_time wins.
    assert.equal(iso(nextSlot(every10, T - 15 * S, T)), '2030-01-07T10:00:00.000Z');
    // Last run after start_time: last run + every wins.
    assert.equal(iso(nextSlot(every60, T + 90 * S, T)), '2030-01-07T10:02:30.000Z');
    assert.equal(iso(nextSlot(every60, T - 60 * S, T)), '2030-01-07T10:00:00.000Z'); // equal: once
  });

  test('crontab with start_time: the first slot at or after it', () => {
    assert.equal(iso(nextSlot(hourly, T - 5 * MIN, T + 90 * MIN)), '2030-01-07T12:00:00.000Z');
    assert.equal(iso(nextSlot(hourly, T - 5 * MIN, T + 60 * MIN)), '2030-01-07T11:00:00.000Z'); // on a slot: that slot
    assert.equal(iso(nextSlot(hourly, T + 3 * 60 * MIN, T)), '2030-01-07T14:00:00.000Z'); // past start_time: ignored
  });

  test('a schedule with no run left gives null', () => {
    const clocked = buildSchedule({ kind: 'clocked', clockedTime: new Date(T) });
    assert.equal(nextSlot(clocked, T, null), null);
    assert.equal(nextSlot(clocked, T - 8.64e15, T + 1), null); // start_time after the clocked time: never
  });
});

describe('recordedLastRun: the rule for missed runs', () => {
  const slot = at('2030-01-07T10:00:00Z');
  const window = 15 * S;

  test('on time or late within the catch-up window: the slot (each missed slot is sent)', () => {
    assert.equal(recordedLastRun(slot, slot, window), slot);
    assert.equal(recordedLastRun(slot, slot + 14 * S, window), slot);
    assert.equal(recordedLastRun(slot, slot + 15 * S, window), slot);
  });

  test('late by more than the window: now (one catch-up run, the schedule goes on from it)', () => {
    assert.equal(recordedLastRun(slot, slot + 16 * S, window), slot + 16 * S);
    assert.equal(recordedLastRun(slot, slot + 2 * 60 * MIN, window), slot + 2 * 60 * MIN);
  });

  test('a window of 0 collapses every late run', () => {
    assert.equal(recordedLastRun(slot, slot, 0), slot);
    assert.equal(recordedLastRun(slot, slot + 1, 0), slot + 1);
  });
});

describe('runTaskId', () => {
  const slot = new Date('2030-01-07T10:00:00.000Z');
  const installation = '3f2c8a4e-0000-4000-8000-000000000001';

  test('is a version-5 UUID, the same for the same run on every beat, in every release', () => {
    const id = runTaskId(installation, 42, slot);
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(runTaskId(installation, 42, new Date(slot.getTime())), id);
    // Pinned: a beat of another release must compute the same id, or Redis cannot
    // suppress a re-send across an upgrade.
    assert.equal(id, '8a611e84-88e2-578a-a9c8-3d5af9089214');
  });

  test('differs by installation, task and slot', () => {
    const id = runTaskId(installation, 42, slot);
    assert.notEqual(runTaskId('another-installation', 42, slot), id);
    assert.notEqual(runTaskId(installation, 43, slot), id);
    assert.notEqual(runTaskId(installation, 42, new Date(slot.getTime() + 1)), id);
  });
});

describe('resolveConfig: flags, then environment, then defaults', () => {
  const env = {
    DATABASE_URL: 'postgres://env/db',
    DBBEAT_DATA_DIR: '/env/data',
    CELERY_BROKER_URL: 'redis://env-celery:6379/1',
    BROKER_URL: 'redis://env-broker:6379/2',
    CELERY_TIMEZONE: 'Asia/Shanghai',
  };

  test('a flag wins over the environment', () => {
    const config = resolveConfig(
      { databaseUrl: 'postgres://flag/db', dataDir: '/flag/data', brokerUrl: 'amqp://flag', timezone: 'Europe/Berlin' },
      env,
    );
    assert.equal(config.databaseUrl, 'postgres://flag/db');
    assert.equal(config.dataDir, '/flag/data');
    assert.equal(config.brokerUrl, 'amqp://flag');
    assert.equal(config.timezone, 'Europe/Berlin');
  });

  test('the environment wins over the defaults; CELERY_BROKER_URL before BROKER_URL', () => {
    const config = resolveConfig({}, env);
    assert.equal(config.databaseUrl, 'postgres://env/db');
    assert.equal(config.dataDir, '/env/data');
    assert.equal(config.brokerUrl, 'redis://env-celery:6379/1');
    assert.equal(config.timezone, 'Asia/Shanghai');
    assert.equal(resolveConfig({}, { BROKER_URL: 'redis://env-broker:6379/2' }).brokerUrl, 'redis://env-broker:6379/2');
  });

  test('the defaults', () => {
    const config = resolveConfig({}, {});
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.dataDir, './.dbbeat');
    assert.equal(config.brokerUrl, 'redis://127.0.0.1:6379/0');
    assert.equal(config.timezone, 'UTC');
    assert.equal(config.maxIntervalMs, 5000);
    assert.equal(config.catchUpWindowMs, 15_000);
    assert.equal(config.startingDeadlineMs, null);
    assert.equal(config.leaseSeconds, 5);
    assert.equal(config.batchSize, 5000);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.migrate, true);
  });

  test('an empty URL flag counts as not given', () => {
    assert.equal(resolveConfig({ databaseUrl: '', brokerUrl: '' }, env).databaseUrl, 'postgres://env/db');
    assert.equal(resolveConfig({ databaseUrl: '', brokerUrl: '' }, env).brokerUrl, 'redis://env-celery:6379/1');
  });

  test('a value out of range is an OptionsError naming the setting and the value', () => {
    assert.throws(
      () => resolveConfig({ maxInterval: 0 }, {}),
      (error: unknown) => error instanceof OptionsError && /max-interval: 0/.test(error.message),
    );
    assert.throws(() => resolveConfig({ batchSize: 1.5 }, {}), /batch-size: 1\.5 must be a positive integer/);
    assert.throws(() => resolveConfig({ logLevel: 'loud' }, {}), /loglevel: "loud"/);
    assert.equal(resolveConfig({ catchUpWindow: 0 }, {}).catchUpWindowMs, 0);
    assert.equal(resolveConfig({ logLevel: 'warning' }, {}).logLevel, 'warn');
  });
});

describe('redactUrl', () => {
  test('hides the password, keeps the rest', () => {
    assert.equal(redactUrl('postgres://alice:s3cret@db:5432/x'), 'postgres://alice:***@db:5432/x');
    assert.equal(redactUrl('amqp://guest:guest@127.0.0.1:5672//'), 'amqp://guest:***@127.0.0.1:5672//');
    assert.equal(redactUrl('redis://:pw@127.0.0.1:6379/0'), 'redis://:***@127.0.0.1:6379/0');
    assert.equal(redactUrl('redis://127.0.0.1:6379/0'), 'redis://127.0.0.1:6379/0');
  });

  test('a URL that does not parse is redacted by pattern', () => {
    assert.equal(redactUrl('postgres://alice:s3cret@db:notaport/x'), 'postgres://alice:***@db:notaport/x');
  });
});

describe('TaskTable', () => {
  const every = (seconds: number) =>
    new ScheduleRef(
      buildSchedule({ kind: 'interval', every: seconds, period: 'seconds' }),
      `|interval:${seconds} seconds||`,
    );
  const profile = (task: string) => ({
    task,
    queue: null,
    exchange: null,
    routingKey: null,
    priority: null,
    expireSeconds: null,
    oneOff: false,
    kwargs: PyJsonText.parse('{}'),
    headers: PyJsonText.parse('{}'),
  });
  const T = at('2030-01-07T10:00:00Z');
  const version = (id: number, schedule: ScheduleRef, args = `[${id}]`): TaskVersion => ({
    id,
    name: `task ${id}`,
    args,
    profile: profile('app.add'),
    expires: null,
    startTime: null,
    lastRunAt: T,
    dateChanged: T - MIN,
    clocked: false,
    schedule,
  });

  test('keeps tasks by id; builds a SendSpec per version, kept while runs are near', () => {
    const table = new TaskTable();
    table.deferOrdering();
    const often = every(10);
    const hourly = every(3600);
    for (let id = 1; id <= 100; id++) table.put(version(id, id % 2 === 0 ? often : hourly), T);
    assert.equal(table.size, 100);
    assert.equal(table.queue.peekTime(), T + 10 * S);
    const due = table.queue.popDue(T + 10 * S, 1000);
    assert.equal(due.length, 50);
    const entry = table.get(2)!;
    assert.deepEqual(
      [entry.slot, entry.spec.name, entry.spec.task, entry.spec.args.text],
      [T + 10 * S, 'task 2', 'app.add', '[2]'],
    );
    assert.equal(table.get(2)!.spec, entry.spec, 'one spec per version');
    table.advance(2, T + 10 * S);
    assert.equal(table.get(2)!.spec, entry.spec, 'kept: the next run is near');
    assert.equal(table.get(2)!.slot, T + 20 * S);
    assert.equal(table.get(1)!.spec.args.text, '[1]');
    const hourlySpec = table.get(1)!.spec;
    table.advance(1, T + 3600 * S);
    assert.notEqual(table.get(1)!.spec, hourlySpec, 'built again: the next run is an hour away');
    table.put(version(2, often, '["edited"]'), T + 11 * S);
    assert.equal(table.get(2)!.spec.args.text, '["edited"]');
    assert.equal(table.get(2)!.slot, T + 20 * S, 'never steps back to a slot already sent');
    assert.equal(table.get(1)!.spec.task, table.get(3)!.spec.task);
  });

  test('delete, requeue, postpone; freed slots are reused', () => {
    const table = new TaskTable();
    const often = every(10);
    table.put(version(1, often), T);
    table.put(version(2, often), T);
    assert.deepEqual(table.queue.popDue(T + 10 * S, 10).sort(), [1, 2]);
    table.requeue(1);
    table.postpone(2, T + 15 * S);
    assert.deepEqual(table.queue.popDue(T + 10 * S, 10), [1]);
    assert.deepEqual(table.queue.popDue(T + 15 * S, 10), [2]);
    table.delete(1);
    assert.equal(table.get(1), undefined);
    table.put(version(3, every(20)), T);
    assert.equal(table.size, 2);
    assert.equal(table.get(3)!.slot, T + 20 * S);
    assert.equal(table.queue.has(3), true);
    table.queue.delete(3);
    assert.equal(table.queue.has(3), false);
    table.clear();
    assert.equal(table.size, 0);
    assert.equal(table.queue.peekTime(), undefined);
  });

  test('a schedule edit starts from now; an unchanged one from the last run', () => {
    const table = new TaskTable();
    table.put(version(1, every(10)), T);
    table.put({ ...version(1, every(60)), lastRunAt: T - 50 * MIN }, T + 5 * S);
    assert.equal(table.get(1)!.slot, T + 5 * S + MIN);
  });
});

describe('SlotIndex', () => {
  test('small ids in the flat array, large ones in the Map; size, delete, clear', () => {
    const index = new SlotIndex();
    index.set(1, 10);
    index.set(5000, 11);
    index.set(2 ** 40, 12);
    index.set(1, 13); // replaced, not counted twice
    assert.deepEqual(
      [index.get(1), index.get(5000), index.get(2 ** 40), index.get(2), index.get(2 ** 41)],
      [13, 11, 12, undefined, undefined],
    );
    assert.equal(index.size, 3);
    index.delete(5000);
    index.delete(2 ** 40);
    index.delete(77);
    assert.equal(index.size, 1);
    assert.equal(index.get(5000), undefined);
    index.clear();
    assert.equal(index.size, 0);
    assert.equal(index.get(1), undefined);
  });
});
