// The JSON form of a schedule used by `dbbeat next --batch` and the conformance
// file: django-celery-beat's column names under the kind, e.g.
// {"crontab": {"minute": "0", "hour": "9", ..., "timezone": "UTC"}}.

import { daysInMonth } from './crontab/civil.js';
import { ScheduleError } from './errors.js';
import type { ScheduleSpec } from './types.js';

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Crontab columns default as in django-celery-beat's model ('*', timezone 'UTC').
function crontabText(fields: JsonObject, column: string): string {
  const value = fields[column] ?? '*';
  // Celery also accepts integers for a field (crontab(minute=5)).
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  if (typeof value !== 'string') throw new ScheduleError(`crontab.${column}`, value, 'must be a string');
  return value;
}

/**
 * Converts the JSON form of a schedule to a ScheduleSpec (not yet validated:
 * pass it to buildSchedule).
 *
 * @throws ScheduleError naming the part that is missing or of the wrong type.
 */
export function specFromJson(form: unknown): ScheduleSpec {
  if (!isObject(form)) throw new ScheduleError('schedule', form, 'must be an object like {"crontab": {...}}');
  const kinds = Object.keys(form);
  if (kinds.length !== 1) {
    throw new ScheduleError('schedule', kinds, 'must have exactly one of crontab, interval, solar, clocked');
  }
  const kind = kinds[0]!;
  const fields = form[kind];
  if (!isObject(fields)) throw new ScheduleError(kind, fields, 'must be an object of columns');
  switch (kind) {
    case 'crontab':
      return {
        kind: 'crontab',
        minute: crontabText(fields, 'minute'),
        hour: crontabText(fields, 'hour'),
        dayOfWeek: crontabText(fields, 'day_of_week'),
        dayOfMonth: crontabText(fields, 'day_of_month'),
        monthOfYear: crontabText(fields, 'month_of_year'),
        timezone: crontabText({ timezone: 'UTC', ...fields }, 'timezone'),
      };
    case 'interval':
      return { kind: 'interval', every: fields['every'] as number, period: fields['period'] as string };
    case 'solar':
      return {
        kind: 'solar',
        event: fields['event'] as string,
        latitude: toNumber(fields['latitude']),
        longitude: toNumber(fields['longitude']),
      };
    case 'clocked': {
      const text = fields['clocked_time'];
      const clockedTime = typeof text === 'string' ? parseInstant(text) : null;
      if (clockedTime === null) {
        throw new ScheduleError('clocked.clocked_time', text, 'must be an ISO 8601 date and time with a zone');
      }
      return { kind: 'clocked', clockedTime };
    }
    default:
      throw new ScheduleError('schedule', kind, 'is not one of crontab, interval, solar, clocked');
  }
}

// Coordinates arrive as numbers or as the strings a numeric column gives.
function toNumber(value: unknown): number {
  return typeof value === 'string' && value.trim() !== '' ? Number(value) : (value as number);
}

const ISO_WITH_ZONE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/** An ISO 8601 instant with an explicit zone (Z or ±hh:mm), or null. */
export function parseInstant(text: string): Date | null {
  const match = ISO_WITH_ZONE.exec(text.trim());
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0));
  // Date() rolls 30 February over into March; refuse it instead.
  const valid =
    month! >= 1 &&
    month! <= 12 &&
    day! >= 1 &&
    day! <= daysInMonth(year!, month!) &&
    hour! <= 23 &&
    minute! <= 59 &&
    second! <= 59;
  const date = new Date(text.trim());
  return valid && !Number.isNaN(date.getTime()) ? date : null;
}

/** An instant as `2026-12-03T04:03:00Z`, with milliseconds only when there are any. */
export function formatInstant(date: Date): string {
  const iso = date.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}
