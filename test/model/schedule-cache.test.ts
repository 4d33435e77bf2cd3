// The beat's schedule cache: tasks that share a schedule row share one checked Schedule,
// found by the row's id, and a schedule row edited under the same id is checked again.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { TaskRow } from '../../src/db/store.js';
import { resolveTaskRow } from '../../src/model/task-row.js';
import type { ScheduleCache } from '../../src/model/validate.js';
import { taskRowOf } from '../support/rows.js';

function intervalRow(id: number, every: number | null, period: string): TaskRow {
  return taskRowOf({ id, name: `task ${id}`, interval_id: 7, i_every: every, i_period: period });
}

test('tasks on one schedule row share its check; an edit of that row under the same id is checked again', () => {
  const scheduleCache: ScheduleCache = new Map();
  const first = resolveTaskRow(intervalRow(1, 10, 'seconds'), { scheduleCache });
  const second = resolveTaskRow(intervalRow(2, 10, 'seconds'), { scheduleCache });
  assert.ok(first.ok && second.ok);
  assert.equal(first.task.schedule, second.task.schedule);
  assert.equal(scheduleCache.size, 1);

  // The row now says 0 seconds (invalid): not the cached valid check.
  const edited = resolveTaskRow(intervalRow(3, 0, 'seconds'), { scheduleCache });
  assert.equal(edited.ok, false);
  // And a valid edit gives a new schedule.
  const longer = resolveTaskRow(intervalRow(4, 1, 'hours'), { scheduleCache });
  assert.ok(longer.ok);
  assert.notEqual(longer.task.schedule, first.task.schedule);
  assert.equal(longer.task.schedule.nextAfter(new Date(0))?.getTime(), 3_600_000);
});
