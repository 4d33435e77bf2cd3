// DST rules of docs/DESIGN.md §4 (Vixie cron's): exact instants, worked out by hand
// from each zone's 2026 rules.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { CrontabSchedule } from '../../src/schedules/index.js';
import { cron, runs } from './support.js';

describe('America/New_York (2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST)', () => {
  const zone = 'America/New_York';

  test('30 2 * * * runs at 03:30 EDT on the spring day, once at 02:30 EST on the fall day', () => {
    assert.deepEqual(runs(cron('30 2 * * *', zone), '2026-03-06T12:00:00Z', 3), [
      '2026-03-07T07:30:00Z',
      '2026-03-08T07:30:00Z',
      '2026-03-09T06:30:00Z',
    ]);
    assert.deepEqual(runs(cron('30 2 * * *', zone), '2026-10-30T12:00:00Z', 3), [
      '2026-10-31T06:30:00Z',
      '2026-11-01T07:30:00Z',
      '2026-11-02T07:30:00Z',
    ]);
  });

  test('a shifted run is found from inside the hour after the gap', () => {
    assert.deepEqual(runs(cron('30 2 * * *', zone), '2026-03-08T07:05:00Z', 1), ['2026-03-08T07:30:00Z']);
  });

  test('0,30 * * * * runs in both passes of 01:00-01:59 on the fall day', () => {
    assert.deepEqual(runs(cron('0,30 * * * *', zone), '2026-11-01T04:45:00Z', 5), [
      '2026-11-01T05:00:00Z',
      '2026-11-01T05:30:00Z',
      '2026-11-01T06:00:00Z',
      '2026-11-01T06:30:00Z',
      '2026-11-01T07:00:00Z',
    ]);
  });

  test('30 1 * * * runs only in the first pass of the repeated hour', () => {
    assert.deepEqual(runs(cron('30 1 * * *', zone), '2026-10-31T12:00:00Z', 2), [
      '2026-11-01T05:30:00Z',
      '2026-11-02T06:30:00Z',
    ]);
    // Asked from between the two passes, the answer is the next day, not 06:30Z.
    assert.deepEqual(runs(cron('30 1 * * *', zone), '2026-11-01T05:30:00Z', 1), ['2026-11-02T06:30:00Z']);
  });

  test('a gap run that lands on another run time runs once', () => {
    assert.deepEqual(runs(cron('0 2,3 * * *', zone), '2026-03-08T00:00:00Z', 2), [
      '2026-03-08T07:00:00Z',
      '2026-03-09T06:00:00Z',
    ]);
    assert.deepEqual(runs(cron('0,30 * * * *', zone), '2026-03-08T06:45:00Z', 3), [
      '2026-03-08T07:00:00Z',
      '2026-03-08T07:30:00Z',
      '2026-03-08T08:00:00Z',
    ]);
  });

  test('an hourly job runs 23 times on the spring day and 25 times on the fall day', () => {
    const hourly = cron('0 * * * *', zone);
    const count = (from: string, to: string) => runs(hourly, from, 30).filter((run) => run < to).length;
    assert.equal(count('2026-03-08T04:59:00Z', '2026-03-09T04:00:00Z'), 23);
    assert.equal(count('2026-11-01T03:59:00Z', '2026-11-02T05:00:00Z'), 25);
  });

  test('nextRunAfter says which runs DST moved', () => {
    const schedule = cron('30 * * * *', zone) as CrontabSchedule;
    assert.deepEqual(schedule.nextRunAfter(new Date('2026-03-08T06:45:00Z')), {
      at: new Date('2026-03-08T07:30:00Z'),
      dstMove: 'gap',
    });
    assert.deepEqual(schedule.nextRunAfter(new Date('2026-11-01T05:45:00Z')), {
      at: new Date('2026-11-01T06:30:00Z'),
      dstMove: 'second-pass',
    });
    assert.equal(schedule.nextRunAfter(new Date('2026-11-01T06:45:00Z'))?.dstMove, null);
  });
});

describe('Europe/Berlin (2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET)', () => {
  const zone = 'Europe/Berlin';

  test('30 2 * * * around both changes', () => {
    assert.deepEqual(runs(cron('30 2 * * *', zone), '2026-03-27T12:00:00Z', 3), [
      '2026-03-28T01:30:00Z',
      '2026-03-29T01:30:00Z',
      '2026-03-30T00:30:00Z',
    ]);
    assert.deepEqual(runs(cron('30 2 * * *', zone), '2026-10-24T12:00:00Z', 2), [
      '2026-10-25T00:30:00Z',
      '2026-10-26T01:30:00Z',
    ]);
  });

  test('*/30 * * * * and 15 */2 * * * run in both passes of 02:00-02:59', () => {
    assert.deepEqual(runs(cron('*/30 * * * *', zone), '2026-10-24T23:45:00Z', 5), [
      '2026-10-25T00:00:00Z',
      '2026-10-25T00:30:00Z',
      '2026-10-25T01:00:00Z',
      '2026-10-25T01:30:00Z',
      '2026-10-25T02:00:00Z',
    ]);
    assert.deepEqual(runs(cron('15 */2 * * *', zone), '2026-10-24T23:30:00Z', 3), [
      '2026-10-25T00:15:00Z',
      '2026-10-25T01:15:00Z',
      '2026-10-25T03:15:00Z',
    ]);
  });
});

describe('Australia/Lord_Howe (30-minute change: 2026-10-04 02:00 -> 02:30; 2026-04-05 02:00 -> 01:30)', () => {
  const zone = 'Australia/Lord_Howe';

  test('a run in the half-hour gap moves by 30 minutes, after a later real run', () => {
    assert.deepEqual(runs(cron('15,30 2 * * *', zone), '2026-10-03T15:00:00Z', 3), [
      '2026-10-03T15:30:00Z',
      '2026-10-03T15:45:00Z',
      '2026-10-04T15:15:00Z',
    ]);
  });

  test('45 1 runs once in the repeated half hour; 45 * runs in both passes', () => {
    assert.deepEqual(runs(cron('45 1 * * *', zone), '2026-04-04T12:00:00Z', 2), [
      '2026-04-04T14:45:00Z',
      '2026-04-05T15:15:00Z',
    ]);
    assert.deepEqual(runs(cron('45 * * * *', zone), '2026-04-04T14:00:00Z', 3), [
      '2026-04-04T14:45:00Z',
      '2026-04-04T15:15:00Z',
      '2026-04-04T16:15:00Z',
    ]);
  });
});

describe('Pacific/Chatham (changes at 02:45 / 03:45 local: 2026-09-27 and 2026-04-05)', () => {
  const zone = 'Pacific/Chatham';

  test('0 3 * * * in the spring gap moves to 04:00 CHADT; 30 2 is before the gap', () => {
    assert.deepEqual(runs(cron('0 3 * * *', zone), '2026-09-25T00:00:00Z', 3), [
      '2026-09-25T14:15:00Z',
      '2026-09-26T14:15:00Z',
      '2026-09-27T13:15:00Z',
    ]);
    assert.deepEqual(runs(cron('30 2 * * *', zone), '2026-09-26T00:00:00Z', 1), ['2026-09-26T13:45:00Z']);
  });

  test('fall back: 0 3 runs in the first pass only, 0 * in both', () => {
    assert.deepEqual(runs(cron('0 3 * * *', zone), '2026-04-04T00:00:00Z', 2), [
      '2026-04-04T13:15:00Z',
      '2026-04-05T14:15:00Z',
    ]);
    assert.deepEqual(runs(cron('0 * * * *', zone), '2026-04-04T13:00:00Z', 3), [
      '2026-04-04T13:15:00Z',
      '2026-04-04T14:15:00Z',
      '2026-04-04T15:15:00Z',
    ]);
  });
});

describe('America/Havana (changes at midnight: 2026-03-08 00:00 -> 01:00; 2026-11-01 01:00 -> 00:00)', () => {
  const zone = 'America/Havana';

  test('a midnight job on the spring day runs at 01:00 CDT', () => {
    assert.deepEqual(runs(cron('0 0 * * *', zone), '2026-03-06T12:00:00Z', 3), [
      '2026-03-07T05:00:00Z',
      '2026-03-08T05:00:00Z',
      '2026-03-09T04:00:00Z',
    ]);
    assert.deepEqual(runs(cron('0 0 8 3 *', zone), '2026-01-01T00:00:00Z', 1), ['2026-03-08T05:00:00Z']);
  });

  test('00:30 on the fall day runs once, in the first pass', () => {
    assert.deepEqual(runs(cron('30 0 * * *', zone), '2026-10-31T12:00:00Z', 2), [
      '2026-11-01T04:30:00Z',
      '2026-11-02T05:30:00Z',
    ]);
  });
});

describe('Europe/Dublin (negative DST in tzdata: IST in summer, GMT in winter)', () => {
  const zone = 'Europe/Dublin';

  test('30 1 * * * around both changes', () => {
    assert.deepEqual(runs(cron('30 1 * * *', zone), '2026-03-27T12:00:00Z', 3), [
      '2026-03-28T01:30:00Z',
      '2026-03-29T01:30:00Z',
      '2026-03-30T00:30:00Z',
    ]);
    assert.deepEqual(runs(cron('30 1 * * *', zone), '2026-10-24T12:00:00Z', 2), [
      '2026-10-25T00:30:00Z',
      '2026-10-26T01:30:00Z',
    ]);
    assert.deepEqual(runs(cron('30 * * * *', zone), '2026-10-25T00:00:00Z', 3), [
      '2026-10-25T00:30:00Z',
      '2026-10-25T01:30:00Z',
      '2026-10-25T02:30:00Z',
    ]);
  });
});

describe('Asia/Tokyo (no DST)', () => {
  test('30 2 * * * is 17:30Z the day before, every day of the year', () => {
    assert.deepEqual(runs(cron('30 2 * * *', 'Asia/Tokyo'), '2026-03-08T00:00:00Z', 2), [
      '2026-03-08T17:30:00Z',
      '2026-03-09T17:30:00Z',
    ]);
  });
});

describe('run times never go backwards and never repeat', () => {
  for (const zone of [
    'America/New_York',
    'Australia/Lord_Howe',
    'Pacific/Chatham',
    'America/Havana',
    'Europe/Dublin',
  ]) {
    test(`a year of */13, 10 1-3 and 45 2 runs in ${zone}`, () => {
      for (const expression of ['*/13 * * * *', '10 1-3 * * *', '45 2 * * *']) {
        const all = runs(cron(expression, zone), '2026-01-01T00:00:00Z', 80_000, '2027-01-01T00:00:00Z');
        for (let index = 1; index < all.length; index++) {
          assert.ok(all[index - 1]! < all[index]!, `${expression}: ${all[index - 1]} then ${all[index]}`);
        }
        assert.ok(all.length > 300, `${expression} ran ${all.length} times`);
      }
    });
  }
});
