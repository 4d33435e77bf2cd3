// A crontab row as a Schedule: parse (parser.ts), find matching wall minutes
// (matcher.ts), turn them into instants under the DST rules (dst.ts).

import { ScheduleError } from '../errors.js';
import type { Schedule } from '../types.js';
import { type ZoneOffsets, zoneOffsets, zoneProblem } from '../zone.js';
import { DAY_MS } from './civil.js';
import { type WallKind, resolveWallTime } from './dst.js';
import { CrontabMatcher } from './matcher.js';
import { parseCrontabField } from './parser.js';

/** The crontab columns of a row, in django-celery-beat's terms. */
export interface CrontabSpec {
  minute: string;
  hour: string;
  dayOfWeek: string;
  dayOfMonth: string;
  monthOfYear: string;
  timezone: string;
}

/** A run time with how DST placed it. */
export interface CrontabRun {
  at: Date;
  /** 'gap': moved forward out of a spring-forward gap; 'second-pass': the repeat of a fall-back hour. */
  dstMove: 'gap' | 'second-pass' | null;
}

/** Guards the candidate loop; real schedules stop after one or two candidates. */
const MAX_CANDIDATES = 10_000;

// Many rows share an expression; matchers are immutable, so share them too.
const MATCHER_CACHE_LIMIT = 10_000;
const matcherCache = new Map<string, CrontabMatcher>();

function matcherFor(spec: CrontabSpec): CrontabMatcher {
  const key = `${spec.minute}\u0000${spec.hour}\u0000${spec.dayOfWeek}\u0000${spec.dayOfMonth}\u0000${spec.monthOfYear}`;
  let matcher = matcherCache.get(key);
  if (matcher === undefined) {
    matcher = new CrontabMatcher({
      minute: parseCrontabField('minute', spec.minute),
      hour: parseCrontabField('hour', spec.hour),
      dayOfWeek: parseCrontabField('day_of_week', spec.dayOfWeek),
      dayOfMonth: parseCrontabField('day_of_month', spec.dayOfMonth),
      monthOfYear: parseCrontabField('month_of_year', spec.monthOfYear),
    });
    if (matcherCache.size >= MATCHER_CACHE_LIMIT) matcherCache.clear();
    matcherCache.set(key, matcher);
  }
  return matcher;
}

/** A validated crontab schedule, evaluated in its own time zone. */
export class CrontabSchedule implements Schedule {
  readonly kind = 'crontab';
  private readonly matcher: CrontabMatcher;
  private readonly zone: ZoneOffsets;
  /** Vixie's rule: only jobs whose hour field starts with `*` run in both passes of a repeated hour. */
  private readonly runsTwiceInRepeatedHour: boolean;

  constructor(readonly spec: CrontabSpec) {
    const problem = typeof spec.timezone === 'string' ? zoneProblem(spec.timezone) : 'must be a string';
    if (problem !== null) throw new ScheduleError('crontab.timezone', spec.timezone, problem);
    this.matcher = matcherFor(spec);
    // Celery's beat fails on such a row at every check ("unable to rollover, time
    // specification is probably invalid"); it is refused here, as a bad field is.
    if (!this.matcher.canMatch) {
      const reason = `never matches: no month in month_of_year "${spec.monthOfYear}" has any of these days`;
      throw new ScheduleError('crontab.day_of_month', spec.dayOfMonth, reason);
    }
    this.zone = zoneOffsets(spec.timezone);
    this.runsTwiceInRepeatedHour = spec.hour.trimStart().startsWith('*');
  }

  nextAfter(after: Date): Date | null {
    const run = this.nextRunMs(after.getTime());
    return run === null ? null : new Date(run.at);
  }

  /** Like {@link nextAfter}, and says whether DST moved the run. */
  nextRunAfter(after: Date): CrontabRun | null {
    const run = this.nextRunMs(after.getTime());
    if (run === null) return null;
    const dstMove = run.kind === 'gap' ? 'gap' : run.secondPass ? 'second-pass' : null;
    return { at: new Date(run.at), dstMove };
  }

  describe(): string {
    const { minute, hour, dayOfMonth, monthOfYear, dayOfWeek, timezone } = this.spec;
    return `crontab ${minute} ${hour} ${dayOfMonth} ${monthOfYear} ${dayOfWeek} (${timezone})`;
  }

  // The earliest instant after `afterMs` over all matching wall minutes. Near a
  // DST change, wall order and instant order differ (a shifted gap time, a second
  // pass), so the search starts early by the size of the change and goes on
  // until no later wall minute can give an earlier instant.
  private nextRunMs(afterMs: number): { at: number; kind: WallKind; secondPass: boolean } | null {
    if (Number.isNaN(afterMs)) return null;
    const offset = this.zone.offsetAt(afterMs);
    const lookback = Math.max(
      Math.abs(offset - this.zone.offsetAt(afterMs - DAY_MS)),
      Math.abs(this.zone.offsetAt(afterMs + DAY_MS) - offset),
    );
    let best: { at: number; kind: WallKind; secondPass: boolean } | null = null;
    let wall = this.matcher.nextAfter(afterMs + offset - lookback);
    for (let candidates = 0; wall !== null && candidates < MAX_CANDIDATES; candidates++) {
      const instants = resolveWallTime(this.zone, wall);
      if (best !== null && wall - instants.maxOffset >= best.at) break;
      if (instants.first > afterMs && (best === null || instants.first < best.at)) {
        best = { at: instants.first, kind: instants.kind, secondPass: false };
      }
      if (
        instants.kind === 'repeated' &&
        this.runsTwiceInRepeatedHour &&
        instants.second > afterMs &&
        (best === null || instants.second < best.at)
      ) {
        best = { at: instants.second, kind: instants.kind, secondPass: true };
      }
      // No offset change within a day of this minute: later minutes map to later instants.
      if (instants.settled && instants.first > afterMs) break;
      wall = this.matcher.nextAfter(wall);
    }
    return best;
  }
}
