import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { PyDict, PyNumber } from '../../src/broker/pyjson.js';
import {
  type PeriodicTaskFields,
  ValidationError,
  checkClocked,
  checkCrontab,
  checkInterval,
  checkPeriodicTask,
  checkSolar,
} from '../../src/model/validate.js';

const every5s = { every: 5, period: 'seconds' };
const valid: PeriodicTaskFields = { name: 'report', task: 'proj.tasks.report', interval: every5s };

function messagesOf(fields: PeriodicTaskFields): string[] {
  const result = checkPeriodicTask(fields);
  return result.ok ? [] : result.issues.map((issue) => issue.message);
}

describe('checkPeriodicTask', () => {
  test('a valid row yields its JSON as Python reads it, and its schedule', () => {
    const result = checkPeriodicTask({ ...valid, args: '[1, "a"]', kwargs: '{"x": 2}', headers: '{"h": true}' });
    assert.ok(result.ok);
    assert.equal(result.value.args.text, '[1, "a"]');
    assert.deepEqual(result.value.args.value, [PyNumber.int(1), 'a']);
    assert.deepEqual(result.value.kwargs.value, new PyDict([['x', PyNumber.int(2)]]));
    assert.deepEqual(result.value.headers.value, new PyDict([['h', true]]));
    assert.equal(result.value.schedule.kind, 'interval');
    assert.deepEqual(
      result.value.schedule.nextAfter(new Date('2026-01-01T00:00:00Z')),
      new Date('2026-01-01T00:00:05Z'),
    );
  });

  test('defaults: args [], kwargs {}, headers {}', () => {
    const result = checkPeriodicTask(valid);
    assert.ok(result.ok);
    assert.deepEqual([result.value.args.text, result.value.kwargs.text, result.value.headers.text], ['[]', '{}', '{}']);
  });

  test("payloads Python's json writes are valid and keep their types: big ints, 1.0, 1e16, -0.0, NaN, Infinity", () => {
    const args = '[9007199254740993, 1.0, 1e16, -0.0, NaN, Infinity, -Infinity]';
    const result = checkPeriodicTask({ ...valid, args, kwargs: '{"a": NaN, "a": 1.5}', headers: '{"n": -Infinity}' });
    assert.ok(result.ok, JSON.stringify(!result.ok && result.issues));
    assert.equal(result.value.args.text, args, 'kept as stored');
    assert.deepEqual(
      (result.value.args.value as PyNumber[]).map((n) => `${n.kind} ${n.repr}`),
      ['int 9007199254740993', 'float 1.0', 'float 1e+16', 'float -0.0', 'float nan', 'float inf', 'float -inf'],
    );
    assert.deepEqual(result.value.kwargs.value, new PyDict([['a', PyNumber.float(1.5)]]));
    assert.deepEqual(messagesOf({ ...valid, args: '[nan]' }), [
      'args: "[nan]" is not JSON (Expecting value at char 1)',
    ]);
  });

  test('exactly one schedule', () => {
    assert.deepEqual(messagesOf({ name: 'a', task: 't' }), [
      'schedule: one of interval, crontab, solar, clocked must be set',
    ]);
    assert.deepEqual(messagesOf({ ...valid, crontab: { minute: '0' } }), [
      'interval, crontab: only one schedule may be set',
    ]);
    assert.deepEqual(
      messagesOf({
        ...valid,
        interval: null,
        crontabId: 3,
        solarId: 4,
        crontab: {},
        solar: { event: 'sunrise', latitude: 1, longitude: 2 },
      }),
      ['crontab, solar: only one schedule may be set'],
    );
  });

  test('a schedule id without its row is reported', () => {
    assert.deepEqual(messagesOf({ name: 'a', task: 't', crontabId: 7 }), [
      'crontab_id: 7 names no crontab schedule row',
    ]);
  });

  test('clocked requires one_off', () => {
    const clocked = { clockedTime: new Date('2030-01-01T00:00:00Z') };
    assert.deepEqual(messagesOf({ name: 'a', task: 't', clocked }), [
      'one_off: a clocked schedule requires one_off = true',
    ]);
    assert.deepEqual(messagesOf({ name: 'a', task: 't', clocked, oneOff: true }), []);
  });

  test('expires and expire_seconds not both', () => {
    assert.deepEqual(messagesOf({ ...valid, expires: new Date(), expireSeconds: 10 }), [
      'expires, expire_seconds: only one of them may be set',
    ]);
  });

  test('JSON columns of the right shape', () => {
    assert.deepEqual(messagesOf({ ...valid, args: '{"a": 1}' }), ['args: "{\\"a\\": 1}" is not a JSON list']);
    assert.deepEqual(messagesOf({ ...valid, args: '[1,' }), ['args: "[1," is not JSON (Expecting value at char 3)']);
    assert.deepEqual(messagesOf({ ...valid, kwargs: '[1]' }), ['kwargs: "[1]" is not a JSON object']);
    assert.deepEqual(messagesOf({ ...valid, kwargs: 'null' }), ['kwargs: "null" is not a JSON object']);
    assert.deepEqual(messagesOf({ ...valid, headers: 'x' }), ['headers: "x" is not JSON (Expecting value at char 0)']);
  });

  test('name and task non-empty and at most 200 characters (code points)', () => {
    assert.deepEqual(messagesOf({ ...valid, name: '' }), ['name: must not be empty']);
    assert.deepEqual(messagesOf({ ...valid, task: '  ' }), ['task: must not be empty']);
    assert.deepEqual(messagesOf({ ...valid, name: '😀'.repeat(200) }), []);
    assert.deepEqual(messagesOf({ ...valid, task: 'x'.repeat(201) }), [
      `task: "${'x'.repeat(60)}"… is 201 characters long, at most 200 allowed`,
    ]);
  });

  test('queue, exchange, routing_key at most 200 characters', () => {
    const long = 'q'.repeat(201);
    assert.deepEqual(
      messagesOf({ ...valid, queue: long, exchange: long, routingKey: long }).map((message) => message.split(':')[0]),
      ['queue', 'exchange', 'routing_key'],
    );
    assert.deepEqual(messagesOf({ ...valid, queue: null, exchange: '', routingKey: 'q'.repeat(200) }), []);
  });

  test('priority an integer 0..255, expire_seconds an integer >= 0', () => {
    assert.deepEqual(messagesOf({ ...valid, priority: 256 }), ['priority: 256 is not an integer in 0-255']);
    assert.deepEqual(messagesOf({ ...valid, priority: -1 }), ['priority: -1 is not an integer in 0-255']);
    assert.deepEqual(messagesOf({ ...valid, priority: 1.5 }), ['priority: 1.5 is not an integer in 0-255']);
    assert.deepEqual(messagesOf({ ...valid, priority: 0 }), []);
    assert.deepEqual(messagesOf({ ...valid, expireSeconds: -1 }), [
      'expire_seconds: -1 is not an integer of at least 0',
    ]);
    assert.deepEqual(messagesOf({ ...valid, expireSeconds: 0 }), []);
  });

  test('schedule fields are checked by the schedule engine, prefixed with the kind', () => {
    assert.deepEqual(messagesOf({ name: 'a', task: 't', crontab: { minute: '61' } }), [
      'crontab.minute: "61" is out of range 0-59',
    ]);
    assert.deepEqual(messagesOf({ name: 'a', task: 't', crontab: { timezone: 'Mars/Base' } }), [
      'crontab.timezone: "Mars/Base" is not a known time zone',
    ]);
  });

  test('every issue at once; ValidationError joins them', () => {
    const result = checkPeriodicTask({ name: 'a', task: 't', crontab: { minute: '61' }, args: 'x' });
    assert.ok(!result.ok);
    const error = new ValidationError(result.issues);
    assert.equal(
      error.message,
      'args: "x" is not JSON (Expecting value at char 0); crontab.minute: "61" is out of range 0-59',
    );
    assert.deepEqual(
      error.issues.map((issue) => [issue.field, issue.value]),
      [
        ['args', 'x'],
        ['crontab.minute', '61'],
      ],
    );
    assert.equal(error.name, 'ValidationError');
  });
});

describe('schedule row checks', () => {
  test('checkCrontab: defaults, column lengths, fields', () => {
    assert.ok(checkCrontab({}).ok);
    const tooLong = checkCrontab({ hour: '1,'.repeat(48) + '1' });
    assert.ok(!tooLong.ok);
    assert.equal(tooLong.issues[0]?.message.endsWith('is 97 characters long, at most 96 allowed'), true);
    const badDay = checkCrontab({ dayOfWeek: 'xyz' });
    assert.ok(!badDay.ok);
    assert.equal(badDay.issues[0]?.field, 'crontab.day_of_week');
  });

  test('checkInterval: every >= 1 fitting an int, known period', () => {
    assert.ok(checkInterval(every5s).ok);
    const zero = checkInterval({ every: 0, period: 'seconds' });
    assert.ok(!zero.ok && zero.issues[0]?.field === 'interval.every');
    const huge = checkInterval({ every: 3e9, period: 'seconds' });
    assert.ok(!huge.ok);
    assert.equal(huge.issues[0]?.message, 'interval.every: 3000000000 is larger than 2147483647');
    const weeks = checkInterval({ every: 1, period: 'weeks' });
    assert.ok(!weeks.ok && weeks.issues[0]?.field === 'interval.period');
  });

  test('checkSolar: event and coordinates in range; Decimal-like values accepted', () => {
    assert.ok(checkSolar({ event: 'sunrise', latitude: '52.520008', longitude: { toString: () => '13.404954' } }).ok);
    const north = checkSolar({ event: 'sunrise', latitude: 91, longitude: 0 });
    assert.ok(!north.ok && north.issues[0]?.field === 'solar.latitude');
    const east = checkSolar({ event: 'sunrise', latitude: 0, longitude: 181 });
    assert.ok(!east.ok && east.issues[0]?.field === 'solar.longitude');
    const noon = checkSolar({ event: 'noon', latitude: 0, longitude: 0 });
    assert.ok(!noon.ok && noon.issues[0]?.field === 'solar.event');
    const text = checkSolar({ event: 'sunrise', latitude: 'north', longitude: 0 });
    assert.ok(!text.ok);
    assert.equal(text.issues[0]?.message, 'solar.latitude: "north" is not a number');
  });

  test('checkClocked: a valid instant', () => {
    assert.ok(checkClocked({ clockedTime: new Date('2030-01-01T00:00:00Z') }).ok);
    const invalid = checkClocked({ clockedTime: new Date('nope') });
    assert.ok(!invalid.ok);
    assert.equal(invalid.issues[0]?.message, 'clocked.clocked_time: Invalid Date is not a valid date and time');
  });
});
