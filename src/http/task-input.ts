// A request body → the fields `schedule()` takes (TaskInput). Only the shape of the
// request is checked here (known fields, dates, JSON columns); every rule of a task
// is checked by checkPeriodicTask when it is written, so the console, the Prisma
// extension and the beat agree on what is valid.
import type { TaskInput } from '../model/task-edit.js';
import type { ValidationIssue } from '../model/validate.js';

/** A request body that is JSON, with the exact text of its top-level members. */
export interface JsonBody {
  value: unknown;
  /** Raw text of each top-level member (see raw-json.ts). */
  raw: Map<string, string>;
}

const SCALARS = [
  'name',
  'task',
  'description',
  'enabled',
  'oneOff',
  'queue',
  'exchange',
  'routingKey',
  'priority',
  'expireSeconds',
] as const;
const DATES = ['expires', 'startTime'] as const;
const JSON_COLUMNS = { args: 'list', kwargs: 'object', headers: 'object' } as const;
const SCHEDULE_FIELDS = {
  crontab: ['minute', 'hour', 'dayOfWeek', 'dayOfMonth', 'monthOfYear', 'timezone'],
  interval: ['every', 'period'],
  solar: ['event', 'latitude', 'longitude'],
  clocked: ['clockedTime'],
} as const;
/** Fields of the body that are not task fields. */
const META = ['version'];

/** The task fields of a request body, or the issues of its shape. */
export function taskInputOf(body: JsonBody): { ok: true; input: TaskInput } | { ok: false; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const value = body.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      ok: false,
      issues: [{ field: '(body)', value, message: '(body): expected a JSON object of task fields' }],
    };
  }
  const fields = value as Record<string, unknown>;
  const input: Record<string, unknown> = {};
  for (const [key, given] of Object.entries(fields)) {
    if ((SCALARS as readonly string[]).includes(key)) {
      input[key] = given;
    } else if ((DATES as readonly string[]).includes(key)) {
      const date = dateOf(issues, key, given);
      if (date !== undefined) input[key] = date;
    } else if (key in JSON_COLUMNS) {
      // A string is the JSON text itself; anything else is the value, kept as sent.
      input[key] = typeof given === 'string' ? given : body.raw.get(key);
    } else if (key in SCHEDULE_FIELDS) {
      if (given === null) continue;
      const schedule = scheduleOf(issues, key as keyof typeof SCHEDULE_FIELDS, given);
      if (schedule !== undefined) input[key] = schedule;
    } else if (!META.includes(key)) {
      issues.push({ field: key, value: given, message: `${key}: unknown field` });
    }
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, input: input };
}

function scheduleOf(
  issues: ValidationIssue[],
  kind: keyof typeof SCHEDULE_FIELDS,
  given: unknown,
): Record<string, unknown> | undefined {
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    issues.push({
      field: kind,
      value: given,
      message: `${kind}: expected an object with ${SCHEDULE_FIELDS[kind].join(', ')}`,
    });
    return undefined;
  }
  const schedule: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given)) {
    if (!(SCHEDULE_FIELDS[kind] as readonly string[]).includes(key)) {
      issues.push({ field: `${kind}.${key}`, value, message: `${kind}.${key}: unknown field` });
    } else if (key === 'clockedTime') {
      const date = dateOf(issues, 'clocked.clockedTime', value);
      if (date !== undefined) schedule[key] = date;
    } else {
      schedule[key] = value;
    }
  }
  return schedule;
}

/**
 * ISO 8601 date and time with a zone → Date; undefined for anything else (a time without a
 * zone would be read in the server's zone, and `new Date` also takes "1" as the year 2001).
 */
export function isoWithZone(value: unknown): Date | undefined {
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/i.test(value)) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  return undefined;
}

/** The issue of a value that is not an ISO 8601 date and time with a zone. */
export function notIsoWithZone(field: string, value: unknown): ValidationIssue {
  return {
    field,
    value,
    message: `${field}: ${JSON.stringify(value)} is not an ISO 8601 date and time with a zone (e.g. 2026-12-01T09:00:00Z)`,
  };
}

/** ISO 8601 with a zone (or null) → Date; undefined after reporting an issue. */
function dateOf(issues: ValidationIssue[], field: string, value: unknown): Date | null | undefined {
  if (value === null) return null;
  const date = isoWithZone(value);
  if (date === undefined) issues.push(notIsoWithZone(field, value));
  return date;
}

/** A list of ids from a body: positive integers. */
export function idsOf(value: unknown): { ok: true; ids: number[] } | { ok: false; issues: ValidationIssue[] } {
  if (!Array.isArray(value) || value.length === 0 || !value.every((id) => Number.isInteger(id) && id > 0)) {
    return {
      ok: false,
      issues: [{ field: 'ids', value, message: `ids: ${JSON.stringify(value)} is not a non-empty list of task ids` }],
    };
  }
  return { ok: true, ids: value as number[] };
}
