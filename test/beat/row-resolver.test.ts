// The load's cheap checks (RowResolver's page path: isCommonTaskRow, isSimpleJsonList, the
// page's schedule rows checked once) give what the full check (resolveTaskRow on the
// joined row) gives, for good rows and bad: the same TaskVersion, or the same problem.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { PyJsonText } from '../../src/broker/pyjson.js';
import { RowResolver, type RowResult } from '../../src/beat/row-resolver.js';
import { joinSchedules } from '../../src/db/schedule-join.js';
import type { OwnTaskRow, ScheduleRows, TaskPage } from '../../src/db/store.js';
import { isSimpleJsonList } from '../../src/model/common-row.js';

const T = Date.parse('2030-01-07T10:00:00Z');

const schedules: ScheduleRows = {
  crontab: [
    { id: 1, minute: '5', hour: '*', day_of_week: '*', day_of_month: '*', month_of_year: '*', timezone: 'UTC' },
    { id: 2, minute: '61', hour: '*', day_of_week: '*', day_of_month: '*', month_of_year: '*', timezone: 'UTC' },
    { id: 3, minute: '0', hour: '9', day_of_week: 'mon', day_of_month: '*', month_of_year: '*', timezone: 'Mars/Base' },
  ],
  interval: [
    { id: 1, every: 10, period: 'seconds' },
    { id: 2, every: 0, period: 'seconds' },
    { id: 3, every: 1, period: 'fortnights' },
  ],
  solar: [
    { id: 1, event: 'sunrise', latitude: 48.85, longitude: 2.35 },
    { id: 2, event: 'sunrise', latitude: 91, longitude: 2.35 },
  ],
  clocked: [
    { id: 1, clocked_time: T + 60_000 },
    { id: 2, clocked_time: NaN },
  ],
};

const base: OwnTaskRow = {
  id: 0,
  name: 'task',
  task: 'app.tasks.add',
  args: '[]',
  kwargs: '{}',
  headers: '{}',
  queue: null,
  exchange: null,
  routing_key: null,
  priority: null,
  expires: null,
  expire_seconds: null,
  one_off: false,
  start_time: null,
  enabled: true,
  last_run_at: T - 5_000,
  total_run_count: 0,
  date_changed: T - 100_000,
  crontab_id: null,
  interval_id: 1,
  solar_id: null,
  clocked_id: null,
};

const noSchedule = { crontab_id: null, interval_id: null, solar_id: null, clocked_id: null };

/** One change from `base` per row: every branch of the checks, good and bad. */
const variants: Partial<OwnTaskRow>[] = [
  {},
  { name: '  ' },
  { name: '' },
  { name: 'x'.repeat(200) },
  { name: 'x'.repeat(201) },
  { name: '😀'.repeat(150) }, // 300 UTF-16 units, 150 characters: valid
  { name: 7 as unknown as string },
  { task: '' },
  { queue: 'q' },
  { queue: 'q'.repeat(201) },
  { exchange: 'ex', routing_key: 'rk' },
  { routing_key: 5 as unknown as string },
  { priority: 0 },
  { priority: 255 },
  { priority: 256 },
  { priority: -1 },
  { priority: 1.5 },
  { expire_seconds: 0 },
  { expire_seconds: -1 },
  { expire_seconds: 2 ** 31 },
  { expires: T + 1 },
  { expires: T + 1, expire_seconds: 10 },
  { expires: NaN },
  { expires: 9e15 },
  { start_time: T },
  { start_time: Infinity },
  { one_off: 1 as unknown as boolean },
  { enabled: 'yes' as unknown as boolean },
  { args: '[1, "a", true, null, -5]' },
  { args: ' [ 1 , 2 ]\n' },
  { args: '[1.5, NaN, Infinity, {"a": [1]}]' },
  { args: '["\\n", "\\u00e9"]' },
  { args: '[12345678901234567890123]' },
  { args: '[01]' },
  { args: '{}' },
  { args: '[1]x' },
  { args: '' },
  { args: '["a\tb"]' },
  { args: '\ufeff[]' },
  { args: '[' + '['.repeat(5000) + ']'.repeat(5000) + ']' },
  { args: null as unknown as string },
  { kwargs: '{"a": 1}' },
  { kwargs: '[]' },
  { kwargs: `{"long": "${'y'.repeat(100)}"}` },
  { kwargs: 'nope' },
  { headers: '{"x": 1}' },
  { headers: '1' },
  { ...noSchedule },
  { ...noSchedule, crontab_id: 1 },
  { ...noSchedule, crontab_id: 2 },
  { ...noSchedule, crontab_id: 3 },
  { ...noSchedule, crontab_id: 99 },
  { ...noSchedule, interval_id: 2 },
  { ...noSchedule, interval_id: 3 },
  { ...noSchedule, solar_id: 1 },
  { ...noSchedule, solar_id: 2 },
  { ...noSchedule, clocked_id: 1, one_off: true },
  { ...noSchedule, clocked_id: 1 },
  { ...noSchedule, clocked_id: 2, one_off: true },
  { crontab_id: 1 },
  { ...noSchedule, crontab_id: 1, name: '', priority: 300, args: 'x' },
];

/** What a result says, for comparison (schedules by key; JSON values by text). */
function summary(result: RowResult): unknown {
  if (typeof result === 'string') return result;
  const { profile, schedule, ...rest } = result;
  return {
    ...rest,
    profile: { ...profile, kwargs: profile.kwargs.text, headers: profile.headers.text },
    schedule: schedule.key,
  };
}

describe('RowResolver', () => {
  test('a page gives, row by row, what the full check of the joined row gives', () => {
    const tasks = variants.map((change, index) => ({ ...base, ...change, id: index + 1 }));
    const page: TaskPage = { tasks, schedules };
    const fromPage: unknown[] = [];
    new RowResolver().resolvePage(page, (_, result) => fromPage.push(summary(result)));
    const full = new RowResolver();
    const expected = joinSchedules(tasks, schedules).map((row) => summary(full.resolve(row)));
    assert.equal(fromPage.length, variants.length);
    for (let index = 0; index < variants.length; index++) {
      assert.deepStrictEqual(fromPage[index], expected[index], `variant ${index}: ${JSON.stringify(variants[index])}`);
    }
    assert.ok(fromPage.filter((result) => typeof result === 'string').length > 20, 'bad rows are reported');
  });

  test('schedule rows read with one page serve the later pages (the store is told not to read them again)', () => {
    const resolver = new RowResolver();
    resolver.resolvePage({ tasks: [{ ...base, id: 1 }], schedules }, () => undefined);
    assert.equal(resolver.knows('interval', 1), true);
    assert.equal(resolver.knows('crontab', 7), false);
    const results: RowResult[] = [];
    const later = { crontab: [], interval: [], solar: [], clocked: [] };
    resolver.resolvePage({ tasks: [{ ...base, id: 2 }], schedules: later }, (_, result) => results.push(result));
    assert.equal(typeof results[0], 'object');
    resolver.endLoad();
    assert.equal(resolver.knows('interval', 1), false);
  });

  test('isSimpleJsonList accepts only texts that parse as a list', () => {
    const texts = [
      '[]',
      ' [ ] ',
      '[1,2,3]',
      '[-0]',
      '[-]',
      '["a", "b"]',
      '["a\\"b"]',
      '["\u0001"]',
      '[true,false,null]',
      '[tru]',
      '[1,]',
      '[,1]',
      '[1 2]',
      '[1]]',
      '[[1]]',
      '[1e5]',
      '[1234567890123456]',
      '[12345678901234567]',
      '\u00a0[]',
      '[]\u00a0',
      '["é"]',
    ];
    for (const text of texts) {
      if (!isSimpleJsonList(text)) continue;
      assert.ok(Array.isArray(PyJsonText.parse(text).value), text);
    }
    assert.ok(isSimpleJsonList('[1, "a", null]'));
    assert.ok(!isSimpleJsonList('\u00a0[]'));
  });
});
