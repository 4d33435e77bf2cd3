// Interval schedules: `every × period` after the last run.

import { ScheduleError } from './errors.js';
import type { IntervalPeriod, Schedule } from './types.js';

/** Microseconds in one of each period, as django-celery-beat spells them. */
const PERIOD_MICROSECONDS: Record<IntervalPeriod, number> = {
  days: 86_400_000_000,
  hours: 3_600_000_000,
  minutes: 60_000_000,
  seconds: 1_000_000,
  microseconds: 1,
};

/** The last instant a Date can hold. */
const MAX_DATE_MS = 8.64e15;

function isIntervalPeriod(value: unknown): value is IntervalPeriod {
  return typeof value === 'string' && Object.hasOwn(PERIOD_MICROSECONDS, value);
}

/**
 * A schedule that runs `every` periods after the previous run.
 *
 * A Date holds milliseconds, so a length with a sub-millisecond part (a
 * `microseconds` period) is rounded up to whole milliseconds (1500 µs runs every
 * 2 ms, 1 µs every 1 ms): a run is never early, and each run is strictly after
 * the previous one.
 */
export class IntervalSchedule implements Schedule {
  readonly kind = 'interval';
  /** The interval as whole milliseconds, rounded up. */
  readonly lengthMs: number;

  constructor(
    readonly every: number,
    readonly period: IntervalPeriod,
  ) {
    this.lengthMs = Math.ceil((every * PERIOD_MICROSECONDS[period]) / 1000);
  }

  nextAfter(after: Date): Date | null {
    const next = after.getTime() + this.lengthMs;
    return Number.isFinite(next) && next <= MAX_DATE_MS ? new Date(next) : null;
  }

  describe(): string {
    return `every ${this.every} ${this.period}`;
  }
}

/**
 * Validates an interval row and builds its schedule.
 *
 * @throws ScheduleError on `interval.every` (an integer >= 1) or `interval.period`
 *   (days, hours, minutes, seconds or microseconds).
 */
export function createIntervalSchedule(spec: { every: number; period: string }): IntervalSchedule {
  const { every, period } = spec;
  if (typeof every !== 'number' || !Number.isSafeInteger(every) || every < 1) {
    throw new ScheduleError('interval.every', every, 'must be a whole number of at least 1');
  }
  if (!isIntervalPeriod(period)) {
    throw new ScheduleError('interval.period', period, 'must be one of days, hours, minutes, seconds, microseconds');
  }
  return new IntervalSchedule(every, period);
}
