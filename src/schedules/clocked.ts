// Clocked schedules: one run, at `clocked_time`.

import { ScheduleError } from './errors.js';
import type { Schedule } from './types.js';

/** A schedule with a single run time. */
export class ClockedSchedule implements Schedule {
  readonly kind = 'clocked';

  constructor(readonly clockedTime: Date) {}

  /** The clocked time when it is after `after`, else null: it never runs again. */
  nextAfter(after: Date): Date | null {
    return this.clockedTime.getTime() > after.getTime() ? new Date(this.clockedTime) : null;
  }

  describe(): string {
    return `clocked ${this.clockedTime.toISOString()}`;
  }
}

/**
 * Validates a clocked row and builds its schedule.
 *
 * @throws ScheduleError on `clocked.clocked_time` when it is not a valid Date.
 */
export function createClockedSchedule(spec: { clockedTime: Date }): ClockedSchedule {
  const { clockedTime } = spec;
  if (!(clockedTime instanceof Date) || Number.isNaN(clockedTime.getTime())) {
    throw new ScheduleError('clocked.clocked_time', clockedTime, 'must be a valid date and time');
  }
  return new ClockedSchedule(new Date(clockedTime));
}
