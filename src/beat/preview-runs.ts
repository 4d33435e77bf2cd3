// The runs a schedule would get, as the beat would send them: the preview behind
// `dbbeat next` and the console's /api/preview. One rule with the beat (firstBase): a task
// saved at `savedAt` that never ran; a clocked time that has already passed runs at once.
import { CrontabSchedule } from '../schedules/index.js';
import type { Schedule } from '../schedules/types.js';
import { firstBase } from './task-version.js';

/** One previewed run. */
export interface PreviewedRun {
  at: Date;
  /** A crontab run that DST moved: out of a skipped hour, or in the second pass of a repeated one. */
  dstMove: 'gap' | 'second-pass' | null;
  /** Its time is at or before `savedAt` (a clocked time that has passed): the beat sends it at once. */
  overdue: boolean;
}

/**
 * Up to `count` runs of a task with `schedule` saved at `savedAt` and never run, in order;
 * fewer when the schedule has no more (a clocked schedule has one). Pure: no database.
 */
export function previewRuns(schedule: Schedule, savedAt: Date, count: number): PreviewedRun[] {
  const runs: PreviewedRun[] = [];
  const { base } = firstBase({ lastRunAt: null, dateChanged: savedAt.getTime(), clocked: schedule.kind === 'clocked' });
  let last = new Date(base);
  while (runs.length < count) {
    const next = runAfter(schedule, last);
    if (next === null) break;
    runs.push({ ...next, overdue: next.at.getTime() <= savedAt.getTime() });
    last = next.at;
  }
  return runs;
}

function runAfter(schedule: Schedule, after: Date): Omit<PreviewedRun, 'overdue'> | null {
  if (schedule instanceof CrontabSchedule) return schedule.nextRunAfter(after);
  const at = schedule.nextAfter(after);
  return at === null ? null : { at, dstMove: null };
}
