// Examples from Celery's crontab documentation, Celery's AND of day of month and
// day of week, and the day-of-month roll-over that Celery 5.2.6 got wrong.
// Expected instants are worked out by hand.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { cron, runs } from './support.js';

test('0 23 28-31 * * in New York runs on the 28th, 29th, 30th and 31st (Celery 5.2.6 skipped to next month)', () => {
  assert.deepEqual(runs(cron('0 23 28-31 * *', 'America/New_York'), '2026-01-27T12:00:00Z', 5), [
    '2026-01-29T04:00:00Z',
    '2026-01-30T04:00:00Z',
    '2026-01-31T04:00:00Z',
    '2026-02-01T04:00:00Z',
    '2026-03-01T04:00:00Z',
  ]);
});

test('day of month AND day of week: first Monday of the month, Friday the 13th', () => {
  assert.deepEqual(runs(cron('0 0 1-7 * mon'), '2026-01-01T00:00:00Z', 3), [
    '2026-01-05T00:00:00Z',
    '2026-02-02T00:00:00Z',
    '2026-03-02T00:00:00Z',
  ]);
  assert.deepEqual(runs(cron('0 0 13 * fri'), '2026-01-01T00:00:00Z', 3), [
    '2026-02-13T00:00:00Z',
    '2026-03-13T00:00:00Z',
    '2026-11-13T00:00:00Z',
  ]);
});

test('documented examples', () => {
  assert.deepEqual(runs(cron('*/10 3,17,22 * * thu,fri'), '2026-01-01T00:00:00Z', 3), [
    '2026-01-01T03:00:00Z',
    '2026-01-01T03:10:00Z',
    '2026-01-01T03:20:00Z',
  ]);
  assert.deepEqual(runs(cron('0 */2,*/3 * * *'), '2026-01-01T00:00:00Z', 4), [
    '2026-01-01T02:00:00Z',
    '2026-01-01T03:00:00Z',
    '2026-01-01T04:00:00Z',
    '2026-01-01T06:00:00Z',
  ]);
  assert.deepEqual(runs(cron('0 0 11 5 *'), '2026-06-01T00:00:00Z', 1), ['2027-05-11T00:00:00Z']);
  assert.deepEqual(runs(cron('0 0 * */3 *'), '2026-01-31T12:00:00Z', 2), [
    '2026-04-01T00:00:00Z',
    '2026-04-02T00:00:00Z',
  ]);
});

test('a wrapping day range runs Friday to Monday', () => {
  assert.deepEqual(runs(cron('0 9 * * fri-mon'), '2026-01-01T10:00:00Z', 5), [
    '2026-01-02T09:00:00Z',
    '2026-01-03T09:00:00Z',
    '2026-01-04T09:00:00Z',
    '2026-01-05T09:00:00Z',
    '2026-01-09T09:00:00Z',
  ]);
});

test('29 February runs in leap years; 31 February is refused, as Celery fails on it', () => {
  assert.deepEqual(runs(cron('0 12 29 2 *'), '2026-01-01T00:00:00Z', 2), [
    '2028-02-29T12:00:00Z',
    '2032-02-29T12:00:00Z',
  ]);
  // Celery 5.2: RuntimeError "unable to rollover, time specification is probably invalid".
  assert.throws(() => cron('0 0 31 2 *'), {
    name: 'ScheduleError',
    message: 'crontab.day_of_month: "31" never matches: no month in month_of_year "2" has any of these days',
  });
  assert.throws(() => cron('0 0 30,31 2 *'), /crontab\.day_of_month: "30,31" never matches/);
  assert.throws(() => cron('0 0 31 apr,jun,sep,nov *'), /month_of_year "apr,jun,sep,nov"/);
  // One month that has the day is enough.
  assert.deepEqual(runs(cron('0 0 31 2,4,5 *'), '2026-01-01T00:00:00Z', 1), ['2026-05-31T00:00:00Z']);
});

test('the next run is strictly after, at a whole minute', () => {
  assert.deepEqual(runs(cron('* * * * *'), '2026-01-01T00:00:00Z', 1), ['2026-01-01T00:01:00Z']);
  assert.deepEqual(runs(cron('* * * * *'), '2026-01-01T00:00:59.999Z', 1), ['2026-01-01T00:01:00Z']);
  assert.deepEqual(runs(cron('30 * * * *', 'Asia/Kolkata'), '2026-01-01T00:00:00Z', 2), [
    '2026-01-01T01:00:00Z',
    '2026-01-01T02:00:00Z',
  ]);
});
