// GET /api/preview: the next runs of a schedule that has not been saved, by the
// schedule engine, checked by the same functions as a saved row, with the runs
// that daylight saving time moved marked (as `dbbeat next` marks them).
import { previewRuns } from '../beat/preview-runs.js';
import type { Schedule } from '../schedules/types.js';
import { zoneProblem } from '../schedules/zone.js';
import {
  type CheckResult,
  type ValidationIssue,
  checkClocked,
  checkCrontab,
  checkInterval,
  checkSolar,
} from '../model/validate.js';
import { isoWithZone, notIsoWithZone } from './task-input.js';
import { type RunTime, runTime } from './task-view.js';

/** One previewed run. */
export interface PreviewRun extends RunTime {
  /** 'gap': moved forward out of a spring-forward gap; 'second-pass': the repeat of a fall-back hour. */
  dstMove: 'gap' | 'second-pass' | null;
  /** Its time is at or before `after` (a clocked time that has passed): the beat sends it at once. */
  overdue: boolean;
}

export interface Preview {
  /** The schedule as the engine describes it. */
  schedule: string;
  runs: PreviewRun[];
}

const MAX_PREVIEW = 100;

/**
 * The preview a query asks for: `kind` (crontab, interval, solar, clocked) and that kind's
 * fields as `schedule()` names them, `count` (1-100, default 5), `after` (ISO, default now),
 * `zone` (the zone non-crontab runs are shown in; default `displayZone`).
 */
export function previewOf(
  query: Record<string, string | undefined>,
  now: Date,
  displayZone: string,
): { ok: true; preview: Preview } | { ok: false; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const count = query.count === undefined ? 5 : Number(query.count);
  if (!Number.isInteger(count) || count < 1 || count > MAX_PREVIEW) {
    issues.push({
      field: 'count',
      value: query.count,
      message: `count: ${JSON.stringify(query.count)} is not a whole number from 1 to ${MAX_PREVIEW}`,
    });
  }
  let after = now;
  if (query.after !== undefined) {
    // Strict, as a saved task's times are: "1" or a time without a zone is refused, not guessed.
    const given = isoWithZone(query.after);
    if (given === undefined) issues.push(notIsoWithZone('after', query.after));
    else after = given;
  }
  const zone = query.zone ?? displayZone;
  const problem = zoneProblem(zone);
  if (problem !== null)
    issues.push({ field: 'zone', value: zone, message: `zone: ${JSON.stringify(zone)} ${problem}` });
  const checked =
    query.kind === 'clocked' && isoWithZone(query.clockedTime) === undefined
      ? { ok: false as const, issues: [notIsoWithZone('clocked.clockedTime', query.clockedTime)] }
      : scheduleOf(query);
  if (!checked.ok) issues.push(...checked.issues);
  if (issues.length > 0 || !checked.ok) return { ok: false, issues };

  const schedule = checked.value;
  const runZone = schedule.kind === 'crontab' ? (query.timezone ?? 'UTC') : zone;
  const runs: PreviewRun[] = previewRuns(schedule, after, count).map((run) => ({
    ...runTime(run.at, runZone),
    dstMove: run.dstMove,
    overdue: run.overdue,
  }));
  return { ok: true, preview: { schedule: schedule.describe(), runs } };
}

function scheduleOf(query: Record<string, string | undefined>): CheckResult<Schedule> {
  switch (query.kind) {
    case 'crontab':
      return checkCrontab({
        minute: query.minute,
        hour: query.hour,
        dayOfWeek: query.dayOfWeek,
        dayOfMonth: query.dayOfMonth,
        monthOfYear: query.monthOfYear,
        timezone: query.timezone,
      });
    case 'interval':
      return checkInterval({
        every: query.every === undefined ? NaN : Number(query.every),
        period: query.period ?? '',
      });
    case 'solar':
      return checkSolar({ event: query.event ?? '', latitude: query.latitude ?? '', longitude: query.longitude ?? '' });
    case 'clocked':
      return checkClocked({ clockedTime: new Date(query.clockedTime ?? '') });
    default:
      return {
        ok: false,
        issues: [
          {
            field: 'kind',
            value: query.kind,
            message: `kind: ${JSON.stringify(query.kind)} is not one of crontab, interval, solar, clocked`,
          },
        ],
      };
  }
}
