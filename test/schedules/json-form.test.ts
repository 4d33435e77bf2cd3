// The JSON form of schedules (batch input, conformance file) and instant formatting.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ScheduleError, buildSchedule } from '../../src/schedules/index.js';
import { formatInstant, parseInstant, specFromJson } from '../../src/schedules/json-form.js';

test('crontab columns default to * and UTC, and accept integers', () => {
  assert.deepEqual(specFromJson({ crontab: { minute: 5 } }), {
    kind: 'crontab',
    minute: '5',
    hour: '*',
    dayOfWeek: '*',
    dayOfMonth: '*',
    monthOfYear: '*',
    timezone: 'UTC',
  });
});

test('solar coordinates may be numeric strings; clocked needs a zone', () => {
  assert.deepEqual(specFromJson({ solar: { event: 'sunrise', latitude: '52.5', longitude: 13.4 } }), {
    kind: 'solar',
    event: 'sunrise',
    latitude: 52.5,
    longitude: 13.4,
  });
  assert.deepEqual(specFromJson({ clocked: { clocked_time: '2026-12-01T11:00:00+01:00' } }), {
    kind: 'clocked',
    clockedTime: new Date('2026-12-01T10:00:00Z'),
  });
  assert.throws(() => specFromJson({ clocked: { clocked_time: '2026-12-01T10:00:00' } }), {
    field: 'clocked.clocked_time',
  });
});

test('malformed forms name what is wrong', () => {
  assert.throws(() => specFromJson(null), ScheduleError);
  assert.throws(() => specFromJson({ crontab: {}, interval: {} }), /exactly one of/);
  assert.throws(() => specFromJson({ weekly: {} }), /not one of crontab, interval, solar, clocked/);
  assert.throws(() => specFromJson({ crontab: { hour: ['1'] } }), { field: 'crontab.hour' });
  assert.throws(() => buildSchedule(specFromJson({ interval: { every: 5 } })), { field: 'interval.period' });
});

test('instants print without milliseconds unless there are some', () => {
  assert.equal(formatInstant(new Date('2026-12-03T04:03:00Z')), '2026-12-03T04:03:00Z');
  assert.equal(formatInstant(new Date('2026-12-03T04:03:00.250Z')), '2026-12-03T04:03:00.250Z');
  assert.equal(parseInstant('yesterday'), null);
  assert.equal(parseInstant('2026-02-30T00:00:00Z'), null);
  assert.equal(parseInstant('2026-01-01T24:00:00Z'), null);
  assert.deepEqual(parseInstant('2028-02-29T12:00:00.5+02:00'), new Date('2028-02-29T10:00:00.500Z'));
});
