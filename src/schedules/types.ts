// The contract of the schedule engine. Pure time arithmetic: nothing in
// src/schedules imports a database or a broker.

/** The spellings of django-celery-beat's IntervalSchedule.period. */
export type IntervalPeriod = 'days' | 'hours' | 'minutes' | 'seconds' | 'microseconds';

/** The events of django-celery-beat's SolarSchedule.event. */
export type SolarEvent =
  | 'dawn_astronomical'
  | 'dawn_nautical'
  | 'dawn_civil'
  | 'sunrise'
  | 'solar_noon'
  | 'sunset'
  | 'dusk_civil'
  | 'dusk_nautical'
  | 'dusk_astronomical';

/** A schedule as its database row describes it (column values, camelCase). */
export type ScheduleSpec =
  | {
      kind: 'crontab';
      minute: string;
      hour: string;
      dayOfWeek: string;
      dayOfMonth: string;
      monthOfYear: string;
      /** IANA zone the fields are read in, e.g. "Europe/Berlin". */
      timezone: string;
    }
  | { kind: 'interval'; every: number; period: string }
  | { kind: 'clocked'; clockedTime: Date }
  | { kind: 'solar'; event: string; latitude: number; longitude: number };

export type ScheduleKind = ScheduleSpec['kind'];

/** A parsed, validated schedule. Instances are immutable and cheap to call. */
export interface Schedule {
  readonly kind: ScheduleKind;
  /**
   * The first run time strictly after `after`, or null when there is none
   * (a clocked time already past, a solar event that never happens again).
   */
  nextAfter(after: Date): Date | null;
  /** A short human description, e.g. "crontab 0 9 * * mon-fri (Europe/Berlin)". */
  describe(): string;
}

/** Celery's `is_due` answer: due now or not, and when to ask again. */
export interface DueCheck {
  due: boolean;
  /** Milliseconds until the schedule should be asked again. */
  nextCheckMs: number;
}
