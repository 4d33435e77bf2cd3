// Interval and clocked schedules, validation, and Celery's is_due.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { buildSchedule, isDue } from '../../src/schedules/index.js';

const T = new Date('2026-05-13T07:32:21Z');
const plus = (ms: number) => new Date(T.getTime() + ms);

test('interval: every × period after the last run', () => {
  assert.deepEqual(buildSchedule({ kind: 'interval', every: 90, period: 'seconds' }).nextAfter(T), plus(90_000));
  assert.deepEqual(buildSchedule({ kind: 'interval', every: 2, period: 'days' }).nextAfter(T), plus(2 * 86_400_000));
});

test('interval: microseconds round up to whole milliseconds', () => {
  assert.deepEqual(buildSchedule({ kind: 'interval', every: 1500, period: 'microseconds' }).nextAfter(T), plus(2));
  assert.deepEqual(buildSchedule({ kind: 'interval', every: 1, period: 'microseconds' }).nextAfter(T), plus(1));
  assert.deepEqual(buildSchedule({ kind: 'interval', every: 3000, period: 'microseconds' }).nextAfter(T), plus(3));
});

test('interval: every is a whole number >= 1, period one of five spellings', () => {
  for (const every of [0, -1, 1.5, Number.NaN, '5' as unknown as number]) {
    assert.throws(() => buildSchedule({ kind: 'interval', every, period: 'seconds' }), { field: 'interval.every' });
  }
  for (const period of ['weeks', 'second', 'Seconds', '']) {
    assert.throws(() => buildSchedule({ kind: 'interval', every: 1, period }), {
      field: 'interval.period',
      message: `interval.period: ${JSON.stringify(period)} must be one of days, hours, minutes, seconds, microseconds`,
    });
  }
});

test('clocked: once, at clocked_time', () => {
  const clocked = buildSchedule({ kind: 'clocked', clockedTime: plus(60_000) });
  assert.deepEqual(clocked.nextAfter(T), plus(60_000));
  assert.equal(clocked.nextAfter(plus(60_000)), null);
  assert.throws(() => buildSchedule({ kind: 'clocked', clockedTime: new Date('nope') }), {
    field: 'clocked.clocked_time',
  });
});

test('isDue answers like Celery: due, and when to ask again', () => {
  const every10s = buildSchedule({ kind: 'interval', every: 10, period: 'seconds' });
  assert.deepEqual(isDue(every10s, T, plus(4_000)), { due: false, nextCheckMs: 6_000 });
  assert.deepEqual(isDue(every10s, T, plus(10_000)), { due: true, nextCheckMs: 10_000 });
  assert.deepEqual(isDue(every10s, T, plus(12_500)), { due: true, nextCheckMs: 10_000 });

  const hourly = buildSchedule({
    kind: 'crontab',
    minute: '0',
    hour: '*',
    dayOfWeek: '*',
    dayOfMonth: '*',
    monthOfYear: '*',
    timezone: 'UTC',
  });
  // Last run 07:00, now 08:20: the 08:00 run is due; ask again at 09:00.
  assert.deepEqual(isDue(hourly, new Date('2026-05-13T07:00:00Z'), new Date('2026-05-13T08:20:00Z')), {
    due: true,
    nextCheckMs: 40 * 60_000,
  });

  const clocked = buildSchedule({ kind: 'clocked', clockedTime: plus(60_000) });
  assert.deepEqual(isDue(clocked, T, plus(59_000)), { due: false, nextCheckMs: 1_000 });
  assert.deepEqual(isDue(clocked, T, plus(61_000)), { due: true, nextCheckMs: Number.POSITIVE_INFINITY });
  assert.deepEqual(isDue(clocked, plus(60_000), plus(61_000)), { due: false, nextCheckMs: Number.POSITIVE_INFINITY });
});
