// The crontab grammar: expansions checked against Celery 5.2's crontab_parser
// (answers taken from /usr/lib/python3/dist-packages/celery), our two
// extensions, and rejections that name the field.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ScheduleError, buildSchedule, parseCrontabField } from '../../src/schedules/index.js';

describe('parseCrontabField expands as Celery 5.2 does', () => {
  const cases: [Parameters<typeof parseCrontabField>[0], string, number[]][] = [
    ['minute', '*/15', [0, 15, 30, 45]],
    ['minute', '*/60', [0]],
    ['minute', '0, 15, 30', [0, 15, 30]],
    ['minute', '05', [5]],
    ['minute', '50-10/7', [4, 50, 57]],
    ['minute', '1-5 junk', [1, 2, 3, 4, 5]],
    ['hour', '*/2,*/3', [0, 2, 3, 4, 6, 8, 9, 10, 12, 14, 15, 16, 18, 20, 21, 22]],
    ['hour', '*/3,8-17', [0, 3, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 21]],
    ['hour', '22-2', [0, 1, 2, 22, 23]],
    ['day_of_week', 'fri-mon', [0, 1, 5, 6]],
    ['day_of_week', 'sunday', [0]],
    ['day_of_week', 'Monday-FRIDAY', [1, 2, 3, 4, 5]],
    ['day_of_week', '*', [0, 1, 2, 3, 4, 5, 6]],
    ['day_of_month', '*/3', [1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31]],
    ['day_of_month', '2-30/2', [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]],
    ['day_of_month', '1-7,15-21', [1, 2, 3, 4, 5, 6, 7, 15, 16, 17, 18, 19, 20, 21]],
    ['month_of_year', '2-12/2', [2, 4, 6, 8, 10, 12]],
    // Python's int() reads decimal digits of any script, so Celery does.
    ['hour', '\uff15', [5]],
    ['month_of_year', '\u0663', [3]],
    ['minute', '\u0967\u0665-\u0968\u0660/\u0665', [15, 20]],
    ['minute', '\u{1d7d8}', [0]],
  ];
  for (const [field, text, expected] of cases) {
    test(`${field} "${text}"`, () => assert.deepEqual(parseCrontabField(field, text), expected));
  }
});

describe('extensions django-celery-beat accepts', () => {
  test('7 is Sunday in day_of_week', () => {
    assert.deepEqual(parseCrontabField('day_of_week', '7'), [0]);
    assert.deepEqual(parseCrontabField('day_of_week', '5-7'), [0, 5, 6]);
    assert.deepEqual(parseCrontabField('day_of_week', '0-7'), [0, 1, 2, 3, 4, 5, 6]);
  });
  test('month names in month_of_year', () => {
    assert.deepEqual(parseCrontabField('month_of_year', 'jan-mar'), [1, 2, 3]);
    assert.deepEqual(parseCrontabField('month_of_year', 'NOV-feb'), [1, 2, 11, 12]);
    assert.deepEqual(parseCrontabField('month_of_year', 'December'), [12]);
  });
});

describe('rejections name the field and the value', () => {
  const rejected: [Parameters<typeof parseCrontabField>[0], string, RegExp][] = [
    ['minute', '61', /^crontab\.minute: "61" is out of range 0-59$/],
    ['minute', '60', /out of range 0-59/],
    ['minute', '5,60', /has 60, out of range 0-59/],
    ['minute', 'abc', /not a number or a weekday name/],
    ['minute', '5/x', /crontab\.minute: "5\/x"/],
    ['minute', '5/2', /crontab\.minute/],
    ['minute', '1,,2', /empty part/],
    ['minute', '', /empty part/],
    ['minute', '*/', /empty step/],
    ['minute', '* ', /crontab\.minute/],
    ['minute', '-5', /negative/],
    ['hour', '24', /out of range 0-23/],
    ['hour', '*/0', /step of 0/],
    ['day_of_week', '8', /out of range 0-7/],
    ['day_of_week', 'jan', /crontab\.day_of_week/],
    ['day_of_month', '0', /out of range 1-31/],
    ['day_of_month', '32', /out of range 1-31/],
    ['month_of_year', '13', /out of range 1-12/],
    ['month_of_year', 'mo', /crontab\.month_of_year/],
  ];
  for (const [field, text, message] of rejected) {
    test(`${field} "${text}"`, () => {
      assert.throws(
        () => parseCrontabField(field, text),
        (error: unknown) =>
          error instanceof ScheduleError &&
          error.field === `crontab.${field}` &&
          error.value === text &&
          message.test(error.message),
      );
    });
  }

  test('an unknown or miscased time zone', () => {
    const spec = {
      kind: 'crontab',
      minute: '0',
      hour: '0',
      dayOfWeek: '*',
      dayOfMonth: '*',
      monthOfYear: '*',
    } as const;
    assert.throws(() => buildSchedule({ ...spec, timezone: 'Mars/Base' }), {
      name: 'ScheduleError',
      field: 'crontab.timezone',
      message: 'crontab.timezone: "Mars/Base" is not a known time zone',
    });
    assert.throws(() => buildSchedule({ ...spec, timezone: 'america/new_york' }), /did you mean "America\/New_York"/);
    assert.throws(() => buildSchedule({ ...spec, timezone: '' }), { field: 'crontab.timezone' });
    for (const timezone of ['UTC', 'Etc/GMT+5', 'US/Eastern', 'Asia/Kolkata', 'Asia/Calcutta', 'EST5EDT']) {
      assert.equal(buildSchedule({ ...spec, timezone }).kind, 'crontab', timezone);
    }
  });
});
