// Finds the next local wall-clock minute that a crontab matches, with Celery's
// semantics: minute, hour, month AND day of month AND day of week must all match
// (Vixie cron ORs the two day fields; Celery does not). Pure arithmetic on
// precomputed "next allowed value" tables; time zones are dst.ts's business.

import { DAY_MS, MINUTE_MS, civilFromDays, daysFromCivil, daysInMonth, weekdayOfDays } from './civil.js';

/** The expanded values of the five fields (day_of_week 0 = Sunday). */
export interface CrontabFields {
  minute: readonly number[];
  hour: readonly number[];
  dayOfWeek: readonly number[];
  dayOfMonth: readonly number[];
  monthOfYear: readonly number[];
}

/**
 * A table where `table[v]` is the smallest allowed value >= v, or -1 when there
 * is none; it has one extra slot past `limit` that is always -1.
 */
function nextAllowedTable(values: readonly number[], limit: number): Int8Array {
  const table = new Int8Array(limit + 2).fill(-1);
  let next = -1;
  const allowed = new Set(values);
  for (let value = limit; value >= 0; value--) {
    if (allowed.has(value)) next = value;
    table[value] = next;
  }
  return table;
}

/** A search never needs more than one 400-year Gregorian cycle. */
const SEARCH_YEARS = 401;

/** Precomputed tables for one crontab, answering "next matching wall minute". */
export class CrontabMatcher {
  private readonly nextMinute: Int8Array;
  private readonly nextHour: Int8Array;
  private readonly nextDay: Int8Array;
  private readonly nextMonth: Int8Array;
  private readonly firstMonth: number;
  private readonly weekdayMask: number;
  private readonly everyWeekday: boolean;
  /** False when no month has any of the days (e.g. day 31 in February only). */
  readonly canMatch: boolean;

  constructor(fields: CrontabFields) {
    this.nextMinute = nextAllowedTable(fields.minute, 59);
    this.nextHour = nextAllowedTable(fields.hour, 23);
    this.nextDay = nextAllowedTable(fields.dayOfMonth, 31);
    this.nextMonth = nextAllowedTable(fields.monthOfYear, 12);
    this.firstMonth = this.nextMonth[1]!;
    this.weekdayMask = fields.dayOfWeek.reduce((mask, day) => mask | (1 << day), 0);
    this.everyWeekday = this.weekdayMask === 0b111_1111;
    // February counts with 29 days: a leap year comes, and every weekday with it.
    const longestMonth = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    const firstDay = this.nextDay[1]!;
    this.canMatch =
      firstDay > 0 &&
      fields.dayOfWeek.length > 0 &&
      fields.monthOfYear.some((month) => firstDay <= longestMonth[month]!);
  }

  /**
   * The first matching wall minute strictly after `wallMs`, as wall ms, or null
   * when the crontab never matches (within a 400-year cycle).
   */
  nextAfter(wallMs: number): number | null {
    if (!this.canMatch) return null;
    const minuteIndex = Math.floor(wallMs / MINUTE_MS) + 1;
    let days = Math.floor((minuteIndex * MINUTE_MS) / DAY_MS);
    const minuteOfDay = minuteIndex - days * 1440;
    let hour = Math.floor(minuteOfDay / 60);
    let minute = minuteOfDay - hour * 60;
    let { year, month, day } = civilFromDays(days);
    const lastYear = year + SEARCH_YEARS;

    while (year <= lastYear) {
      const allowedMonth = this.nextMonth[month]!;
      if (allowedMonth !== month) {
        if (allowedMonth < 0) {
          year++;
          month = this.firstMonth;
        } else {
          month = allowedMonth;
        }
        day = 1;
        hour = 0;
        minute = 0;
      }
      const monthLength = daysInMonth(year, month);
      let allowedDay = this.nextDay[day]!;
      if (allowedDay !== day) {
        hour = 0;
        minute = 0;
      }
      while (allowedDay > 0 && allowedDay <= monthLength && !this.weekdayAllowed(year, month, allowedDay)) {
        allowedDay = this.nextDay[allowedDay + 1]!;
        hour = 0;
        minute = 0;
      }
      if (allowedDay < 0 || allowedDay > monthLength) {
        [year, month] = month === 12 ? [year + 1, 1] : [year, month + 1];
        day = 1;
        hour = 0;
        minute = 0;
        continue;
      }
      day = allowedDay;
      const allowedHour = this.nextHour[hour]!;
      if (allowedHour < 0) {
        ({ year, month, day } = civilFromDays(daysFromCivil(year, month, day) + 1));
        hour = 0;
        minute = 0;
        continue;
      }
      if (allowedHour !== hour) {
        hour = allowedHour;
        minute = 0;
      }
      const allowedMinute = this.nextMinute[minute]!;
      if (allowedMinute < 0) {
        hour++;
        minute = 0;
        continue;
      }
      days = daysFromCivil(year, month, day);
      return days * DAY_MS + hour * 3_600_000 + allowedMinute * MINUTE_MS;
    }
    return null;
  }

  private weekdayAllowed(year: number, month: number, day: number): boolean {
    return this.everyWeekday || (this.weekdayMask & (1 << weekdayOfDays(daysFromCivil(year, month, day)))) !== 0;
  }
}
