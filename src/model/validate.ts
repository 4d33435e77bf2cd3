// The rules django-celery-beat enforces in Python (docs/DESIGN.md §2), as pure
// functions: used by our write API before anything is written, and by the beat
// for rows that someone else wrote. The schedule rows are checked in schedule-rows.ts.
import { PyDict, PyJsonText } from '../broker/pyjson.js';
import type { PeriodicTask } from '../generated/prisma/client.js';
import type { Schedule } from '../schedules/types.js';
import type { TaskField } from './fields.js';
import {
  type CheckResult,
  fail,
  isIntegerIn,
  issue,
  isValidDate,
  hasMoreCharactersThan,
  describeValue,
  tooLong,
  type ValidationIssue,
} from './issues.js';
import {
  checkClocked,
  checkCrontab,
  checkInterval,
  checkSolar,
  type ClockedFields,
  type CrontabFields,
  type IntervalFields,
  MAX_INT4,
  type SolarFields,
} from './schedule-rows.js';

export { type CheckResult, ValidationError, type ValidationIssue } from './issues.js';
export {
  checkClocked,
  checkCrontab,
  checkInterval,
  checkSolar,
  type ClockedFields,
  type CrontabFields,
  type DecimalLike,
  type IntervalFields,
  type SolarFields,
} from './schedule-rows.js';

/** The length of django-celery-beat's varchar(200) text columns (name, task, queue, exchange, routing_key). */
export const MAX_NAME_LENGTH = 200;

/**
 * PeriodicTask's columns as Prisma names them (see fields.ts), plus the attached schedule
 * rows. Omitted columns take the table's defaults (args `[]`, kwargs and headers `{}`,
 * one_off false, enabled true). A `…Id` given without its row is reported, because the
 * schedule cannot be checked without it.
 */
export type PeriodicTaskFields = Pick<PeriodicTask, 'name' | 'task'> &
  Partial<Pick<PeriodicTask, Exclude<TaskField, 'id' | 'name' | 'task' | 'dateChanged'>>> & {
    crontab?: CrontabFields | null;
    interval?: IntervalFields | null;
    solar?: SolarFields | null;
    clocked?: ClockedFields | null;
  };

/** What a valid task row means: its decoded JSON columns and its parsed schedule. */
export interface CheckedPeriodicTask {
  /** As stored, read as Python's json reads it (ints, floats, key order kept: broker/pyjson.ts). */
  args: PyJsonText;
  kwargs: PyJsonText;
  headers: PyJsonText;
  schedule: Schedule;
}

/** The four schedule kinds in django-celery-beat's field order (the order messages list them in). */
export const SCHEDULE_KINDS = ['interval', 'crontab', 'solar', 'clocked'] as const;
export type ScheduleKindName = (typeof SCHEDULE_KINDS)[number];

/**
 * Checks a periodic task row against every rule of docs/DESIGN.md §2 and returns
 * all the issues at once, or the decoded JSON columns and the parsed schedule.
 */
export function checkPeriodicTask(
  fields: PeriodicTaskFields,
  options: CheckOptions = {},
): CheckResult<CheckedPeriodicTask> {
  const issues: ValidationIssue[] = [];
  checkRequiredText(issues, 'name', fields.name);
  checkRequiredText(issues, 'task', fields.task);
  checkOptionalText(issues, 'queue', fields.queue);
  checkOptionalText(issues, 'exchange', fields.exchange);
  checkOptionalText(issues, 'routing_key', fields.routingKey);
  if (fields.description !== undefined && typeof fields.description !== 'string') {
    issues.push(issue('description', fields.description, 'is not a string'));
  }

  const args = decodeJson(issues, 'args', fields.args ?? '[]', 'list');
  const kwargs = decodeJson(issues, 'kwargs', fields.kwargs ?? '{}', 'object');
  const headers = decodeJson(issues, 'headers', fields.headers ?? '{}', 'object');

  if (fields.priority != null && !isIntegerIn(fields.priority, 0, 255)) {
    issues.push(issue('priority', fields.priority, 'is not an integer in 0-255'));
  }
  if (fields.expireSeconds != null && !isIntegerIn(fields.expireSeconds, 0, MAX_INT4)) {
    issues.push(issue('expire_seconds', fields.expireSeconds, 'is not an integer of at least 0'));
  }
  if (fields.totalRunCount !== undefined && !isIntegerIn(fields.totalRunCount, 0, MAX_INT4)) {
    issues.push(issue('total_run_count', fields.totalRunCount, 'is not an integer of at least 0'));
  }
  for (const [key, column] of [
    ['expires', 'expires'],
    ['startTime', 'start_time'],
    ['lastRunAt', 'last_run_at'],
  ] as const) {
    const value = fields[key];
    if (value != null && !isValidDate(value)) issues.push(issue(column, value, 'is not a valid date and time'));
  }
  if (fields.expires != null && fields.expireSeconds != null) {
    issues.push({
      field: 'expire_seconds',
      value: fields.expireSeconds,
      message: 'expires, expire_seconds: only one of them may be set',
    });
  }
  for (const [key, column] of [
    ['oneOff', 'one_off'],
    ['enabled', 'enabled'],
  ] as const) {
    const value: unknown = fields[key];
    if (value !== undefined && typeof value !== 'boolean') issues.push(issue(column, value, 'is not a boolean'));
  }

  const schedule = checkAttachedSchedule(issues, fields, options.scheduleCache);
  if (issues.length > 0 || schedule === undefined) return { ok: false, issues };
  return {
    ok: true,
    value: {
      args: args as PyJsonText,
      kwargs: kwargs as PyJsonText,
      headers: headers as PyJsonText,
      schedule,
    },
  };
}

export interface CheckOptions {
  /**
   * Remembers the check of each distinct schedule row, keyed by its content, so that
   * many tasks sharing one schedule share one parsed Schedule (the beat loads a million
   * rows this way). The caller owns the map and may clear it at any time.
   */
  scheduleCache?: ScheduleCache;
}

/** Checked schedule rows by kind and id (or content), with the fields they were checked with. */
export type ScheduleCache = Map<string, { row: object; result: CheckResult<Schedule> }>;

/** The schedule kinds a row has set (by row or by id), in django-celery-beat's order. */
export function setScheduleKinds(fields: PeriodicTaskFields): ScheduleKindName[] {
  return SCHEDULE_KINDS.filter((kind) => fields[kind] != null || fields[`${kind}Id`] != null);
}

// Exactly one schedule, clocked ⇒ one_off, and the schedule row itself.
function checkAttachedSchedule(
  issues: ValidationIssue[],
  fields: PeriodicTaskFields,
  cache: CheckOptions['scheduleCache'],
): Schedule | undefined {
  const kinds = setScheduleKinds(fields);
  if (kinds.length === 0) {
    issues.push({
      field: 'schedule',
      value: null,
      message: 'schedule: one of interval, crontab, solar, clocked must be set',
    });
    return undefined;
  }
  if (kinds.length > 1) {
    issues.push({ field: 'schedule', value: kinds, message: `${kinds.join(', ')}: only one schedule may be set` });
  }
  if (kinds.includes('clocked') && fields.oneOff !== true) {
    issues.push({
      field: 'one_off',
      value: fields.oneOff ?? false,
      message: 'one_off: a clocked schedule requires one_off = true',
    });
  }
  let schedule: Schedule | undefined;
  for (const kind of kinds) {
    const result = cache ? cachedScheduleRow(cache, kind, fields) : checkScheduleRow(kind, fields);
    if (result.ok) schedule ??= result.value;
    else issues.push(...result.issues);
  }
  return kinds.length === 1 ? schedule : undefined;
}

function checkScheduleRow(kind: ScheduleKindName, fields: PeriodicTaskFields): CheckResult<Schedule> {
  const row = fields[kind];
  return row ? checkPresentRow(kind, row) : missingRow(kind, fields[`${kind}Id`]);
}

/** The fields of one schedule row of each kind. */
interface ScheduleRowFields {
  crontab: CrontabFields;
  interval: IntervalFields;
  solar: SolarFields;
  clocked: ClockedFields;
}

function checkPresentRow<K extends ScheduleKindName>(kind: K, row: ScheduleRowFields[K]): CheckResult<Schedule> {
  switch (kind) {
    case 'crontab':
      return checkCrontab(row as CrontabFields);
    case 'interval':
      return checkInterval(row as IntervalFields);
    case 'solar':
      return checkSolar(row as SolarFields);
    default:
      return checkClocked(row as ClockedFields);
  }
}

function cachedScheduleRow(
  cache: ScheduleCache,
  kind: ScheduleKindName,
  fields: PeriodicTaskFields,
): CheckResult<Schedule> {
  const row = fields[kind];
  if (!row) return checkScheduleRow(kind, fields);
  // By the row's id when known (the beat's load: a million tasks, a few thousand schedule
  // rows), checked against the row's fields so an edited schedule row is checked again;
  // else by the row's content.
  const id = fields[`${kind}Id`];
  const key = typeof id === 'number' ? `${kind}#${id}` : `${kind}:${JSON.stringify(row)}`;
  return cachedCheck(cache, key, kind, row);
}

/**
 * The check of schedule row `id` of `kind` (as checkPeriodicTask makes it for a task that
 * has this row), through `cache`: the same cache entry, and so the same Schedule, as
 * checkPeriodicTask's for that row.
 */
export function checkScheduleRowCached<K extends ScheduleKindName>(
  cache: ScheduleCache,
  kind: K,
  id: number,
  row: ScheduleRowFields[K],
): CheckResult<Schedule> {
  return cachedCheck(cache, `${kind}#${id}`, kind, row);
}

function cachedCheck<K extends ScheduleKindName>(
  cache: ScheduleCache,
  key: string,
  kind: K,
  row: ScheduleRowFields[K],
): CheckResult<Schedule> {
  const known = cache.get(key);
  if (known !== undefined && sameFields(known.row, row)) return known.result;
  const result = checkPresentRow(kind, row);
  cache.set(key, { row, result });
  return result;
}

/** Equal schedule-row fields: strings and numbers by value (NaN equal to NaN), dates by time. */
function sameFields(a: object, b: object): boolean {
  if (a === b) return true;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  for (const key of keys) {
    const x = left[key];
    const y = right[key];
    if (Object.is(x, y)) continue;
    if (!(x instanceof Date && y instanceof Date && Object.is(x.getTime(), y.getTime()))) return false;
  }
  return true;
}

function missingRow(kind: ScheduleKindName, id: number | null | undefined): CheckResult<Schedule> {
  return fail(issue(`${kind}_id`, id, `names no ${kind} schedule row`));
}

function checkRequiredText(issues: ValidationIssue[], column: string, value: unknown): void {
  if (typeof value !== 'string') issues.push(issue(column, value, 'is not a string'));
  else if (value.trim() === '') issues.push({ field: column, value, message: `${column}: must not be empty` });
  else if (hasMoreCharactersThan(value, MAX_NAME_LENGTH)) issues.push(tooLong(column, value, MAX_NAME_LENGTH));
}

function checkOptionalText(issues: ValidationIssue[], column: string, value: unknown): void {
  if (value == null) return;
  if (typeof value !== 'string') issues.push(issue(column, value, 'is not a string'));
  else if (hasMoreCharactersThan(value, MAX_NAME_LENGTH)) issues.push(tooLong(column, value, MAX_NAME_LENGTH));
}

// Decodes a JSON text column as Python's json.loads does (django-celery-beat
// loads it so: NaN and Infinity are accepted, ints keep every digit); Celery
// needs args as a list and kwargs/headers as an object.
function decodeJson(
  issues: ValidationIssue[],
  column: string,
  text: unknown,
  shape: 'list' | 'object',
): PyJsonText | undefined {
  // Every message names the column and the stored text (cut at 60 characters).
  const message = `${column}: ${describeValue(text)} is not a JSON ${shape}`;
  if (typeof text !== 'string') {
    issues.push({ field: column, value: text, message });
    return undefined;
  }
  let payload: PyJsonText;
  try {
    payload = PyJsonText.parse(text);
  } catch (error) {
    // Thousands of nested brackets overflow the decoder's stack (Python's json.loads stops
    // at its recursion limit, about 1,000 levels, too): say so rather than "not JSON".
    const tooDeep = error instanceof RangeError;
    issues.push({
      field: column,
      value: text,
      message: tooDeep
        ? `${column}: nested too deeply to decode (the stack overflows)`
        : `${column}: ${describeValue(text)} is not JSON (${error instanceof Error ? error.message : String(error)})`,
    });
    return undefined;
  }
  const isList = Array.isArray(payload.value);
  const isObject = payload.value instanceof PyDict;
  if (shape === 'list' ? !isList : !isObject) {
    issues.push({ field: column, value: text, message });
    return undefined;
  }
  return payload;
}
