// DJANGO_CELERY_BEAT_TZ_AWARE=False with CELERY_TIMEZONE: crontab fields are read in
// CELERY_TIMEZONE, not in the row's `timezone` (which often says UTC, a migration's
// default), exactly as the real django-celery-beat builds the schedule in that mode.
// Also the settings: CELERY_TIMEZONE checked at start, routing settings from the env.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

import { OptionsError, resolveConfig } from '../../src/config.js';
import type { TaskRow } from '../../src/db/store.js';
import { defaultCrontabTimezone } from '../../src/model/schedule-task.js';
import { resolveTaskRow } from '../../src/model/task-row.js';
import { taskRowOf } from '../support/rows.js';

const ZONE = 'Asia/Shanghai';

function crontabRow(fields: [string, string, string, string, string], timezone: string): TaskRow {
  const [minute, hour, dayOfMonth, monthOfYear, dayOfWeek] = fields;
  return taskRowOf({
    id: 1,
    name: 'tz',
    crontab_id: 1,
    c_minute: minute,
    c_hour: hour,
    c_day_of_week: dayOfWeek,
    c_day_of_month: dayOfMonth,
    c_month_of_year: monthOfYear,
    c_timezone: timezone,
  });
}

// django-celery-beat's own CrontabSchedule.schedule in that mode, asked for the next
// run after each instant (Celery's remaining_delta from that instant as last run).
const ORACLE = `
import json, sys
from datetime import datetime
import django
from django.conf import settings
settings.configure(INSTALLED_APPS=['django_celery_beat'], DATABASES={}, USE_TZ=False, TIME_ZONE='${ZONE}',
                   DJANGO_CELERY_BEAT_TZ_AWARE=False, CELERY_TIMEZONE='${ZONE}')
django.setup()
from celery import Celery
app = Celery('oracle', set_as_current=True)
app.conf.timezone = '${ZONE}'
app.conf.enable_utc = False
from django_celery_beat.models import CrontabSchedule
out = []
for case in json.load(sys.stdin):
    m, h, dom, moy, dow = case['fields']
    sched = CrontabSchedule(minute=m, hour=h, day_of_month=dom, month_of_year=moy, day_of_week=dow, timezone='UTC').schedule
    after = datetime.fromisoformat(case['after']).astimezone(app.timezone)
    # Celery's crontab looks at "now" too: beat asks right after the last run.
    sched.nowfun = lambda: after
    last, delta, now = sched.remaining_delta(after)
    out.append((last + delta).isoformat())
print(json.dumps(out))
`;

describe('DJANGO_CELERY_BEAT_TZ_AWARE=False', () => {
  test("crontabs run at the instants django-celery-beat gives them in that mode, whatever the row's timezone says", async () => {
    const crontabs: Array<[string, string, string, string, string]> = [
      ['30', '9', '*', '*', '*'],
      ['0', '0', '*', '*', 'mon'],
      ['15', '23', '1', '*', '*'],
      ['*/20', '8-10', '*', '*', 'mon-fri'],
    ];
    const afters = ['2026-03-01T00:00:00+00:00', '2026-06-15T01:29:00+00:00', '2026-12-31T15:59:00+00:00'];
    const cases = crontabs.flatMap((fields) => afters.map((after) => ({ fields, after })));
    const child = promisify(execFile)('/usr/bin/python3', ['-c', ORACLE], { timeout: 60_000 });
    child.child.stdin?.end(JSON.stringify(cases));
    const expected = JSON.parse((await child).stdout) as string[];
    cases.forEach((c, i) => {
      const resolution = resolveTaskRow(crontabRow(c.fields, 'UTC'), { crontabTimezone: ZONE });
      assert.ok(resolution.ok, JSON.stringify(resolution));
      const ours = resolution.task.schedule.nextAfter(new Date(c.after));
      assert.equal(
        ours?.getTime(),
        new Date(expected[i]!).getTime(),
        `${c.fields.join(' ')} after ${c.after}: ${expected[i]}`,
      );
      // Without the mode, the row's UTC is used: 8 hours apart.
      const own = resolveTaskRow(crontabRow(c.fields, 'UTC'));
      assert.ok(own.ok);
      assert.notEqual(own.task.schedule.nextAfter(new Date(c.after))?.getTime(), ours?.getTime());
    });
  });

  test('settings: the mode from DJANGO_CELERY_BEAT_TZ_AWARE, CELERY_TIMEZONE checked, routing from CELERY_TASK_*', () => {
    assert.equal(resolveConfig({}, { CELERY_TIMEZONE: ZONE }).crontabTimezone, null);
    assert.equal(
      resolveConfig({}, { CELERY_TIMEZONE: ZONE, DJANGO_CELERY_BEAT_TZ_AWARE: 'False' }).crontabTimezone,
      ZONE,
    );
    assert.equal(resolveConfig({ djangoTzAware: false }, {}).crontabTimezone, 'UTC');
    assert.throws(
      () => resolveConfig({}, { CELERY_TIMEZONE: 'Mars/Olympus' }),
      (error: unknown) =>
        error instanceof OptionsError &&
        /CELERY_TIMEZONE.*"Mars\/Olympus" is not a known time zone/.test(error.message),
    );
    assert.throws(() => resolveConfig({}, { CELERY_TIMEZONE: 'asia/shanghai' }), /did you mean "Asia\/Shanghai"/);
    assert.throws(
      () => resolveConfig({}, { DJANGO_CELERY_BEAT_TZ_AWARE: 'maybe' }),
      /DJANGO_CELERY_BEAT_TZ_AWARE: "maybe" is not a boolean/,
    );

    const routing = resolveConfig(
      {},
      {
        CELERY_TASK_DEFAULT_QUEUE: 'default_q',
        CELERY_TASK_DEFAULT_EXCHANGE: 'default_x',
        CELERY_TASK_DEFAULT_EXCHANGE_TYPE: 'topic',
        CELERY_TASK_DEFAULT_ROUTING_KEY: 'default.key',
        CELERY_TASK_ROUTES: '{"proj.*": "proj_q"}',
      },
    ).routing;
    assert.deepEqual(routing, {
      defaultQueue: 'default_q',
      defaultExchange: 'default_x',
      defaultExchangeType: 'topic',
      defaultRoutingKey: 'default.key',
      routes: [{ 'proj.*': 'proj_q' }],
    });
    assert.throws(
      () => resolveConfig({}, { CELERY_TASK_ROUTES: '{"a": 1}' }),
      (error: unknown) => error instanceof OptionsError && /CELERY_TASK_ROUTES\["a"\]/.test(error.message),
    );
    assert.throws(() => resolveConfig({ taskDefaultExchangeType: 'headers' }, {}), /not direct, topic or fanout/);
    assert.deepEqual(resolveConfig({ taskRoutes: { 'a.*': 'q' } }, {}).routing.routes, [{ 'a.*': 'q' }]);
  });

  test('crontab rows written through dbbeat take CELERY_TIMEZONE as their default zone, as django-celery-beat does', () => {
    assert.equal(defaultCrontabTimezone({ CELERY_TIMEZONE: ZONE }), ZONE);
    assert.equal(defaultCrontabTimezone({}), 'UTC');
    assert.equal(defaultCrontabTimezone({ CELERY_TIMEZONE: 'Not/AZone' }), 'UTC');
  });
});
