// The rules django-celery-beat enforces in Python (DESIGN.md §2), as pure
// functions: used by our write API before anything is written, and by the beat
// for rows that someone else wrote. Schedule fields (cron fields, time zones,
// interval, solar event and coordinates) are checked by the schedule engine
// itself, so there is exactly one parser for each of them.
import { ScheduleError } from '../schedules/errors.js';
import { buildSchedule } from '../schedules/index.js';
import type { Schedule, ScheduleSpec } from '../schedules/types.js';

/** One broken rule: where (a column name, or `kind.column` for a schedule), the value, and a message that names both. */
export interface ValidationIssue {
  /** Column name as in the database, e.g. `args`, `expire_seconds`, `crontab.minute`, or `schedule`. */
  field: string;
  value: unknown;
  /** The whole sentence, starting with the field(s): `args: not a JSON list`. */
  message: string;
}

/** The result of a check: the parsed value, or every issue found. */
export type CheckResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

/** Thrown by validated writes; `issues` lists every broken rule. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[]) {
    super(issues.map((issue) => issue.message).join('; '));
    this.issues = issues;
  }
}

/** A Prisma Decimal, a number, or its text: what a `numeric` column arrives as. */
export type DecimalLike = number | string | { toString(): string };

/** CrontabSchedule's columns; omitted ones take the table's defaults (`*`, `UTC`). */
export interface CrontabFields {
  minute?: string;
  hour?: string;
  dayOfWeek?: string;
  dayOfMonth?: string;
  monthOfYear?: string;
  timezone?: string;
}

/** IntervalSchedule's columns. */
export interface IntervalFields {
  every: number;
  period: string;
}

/** SolarSchedule's columns. */
export interface SolarFields {
  event: string;
  latitude: DecimalLike;
  longitude: DecimalLike;
}

/** ClockedSchedule's columns. */
export interface ClockedFields {
  clockedTime: Date;
}

/**
 * PeriodicTask's columns as Prisma names them, plus the attached schedule rows.
 * Omitted columns take the table's defaults (args `[]`, kwargs and headers `{}`,
 * one_off false, enabled true). A `…Id` given without its row is reported,
 * because the schedule cannot be checked without it.
 */
export interface PeriodicTaskFields {
  name: string;
  task: string;
  args?: string;
  kwargs?: string;
  headers?: string;
  queue?: string | null;
  exchange?: string | null;
  routingKey?: string | null;
  priority?: number | null;
  expires?: Date | null;
  expireSeconds?: number | null;
  oneOff?: boolean;
  startTime?: Date | null;
  enabled?: boolean;
  description?: string;
  lastRunAt?: Date | null;
  totalRunCount?: number;
  crontabId?: number | null;
  intervalId?: number | null;
  solarId?: number | null;
  clockedId?: number | null;
  crontab?: CrontabFields | null;
  interval?: IntervalFields | null;
  solar?: SolarFields | null;
  clocked?: ClockedFields | null;
}

/** What a valid task row means: its decoded JSON columns and its parsed schedule. */
export interface CheckedPeriodicTask {
  args: unknown[];
  kwargs: Record<string, unknown>;
  headers: Record<string, unknown>;
  schedule: Schedule;
}

/** The four schedule kinds in django-celery-beat's field order (the order messages list them in). */
export const SCHEDULE_KINDS = ['interval', 'crontab', 'solar', 'clocked'] as const;
export type ScheduleKindName = (typeof SCHEDULE_KINDS)[number];

const MAX_NAME_LENGTH = 200;
const MAX_INT4 = 2_147_483_647;

// varchar lengths of django_celery_beat_crontabschedule, in the order Django declares them.
const CRONTAB_COLUMNS = [
  ['minute', 'minute', 240],
  ['hour', 'hour', 96],
  ['dayOfWeek', 'day_of_week', 64],
  ['dayOfMonth', 'day_of_month', 124],
  ['monthOfYear', 'month_of_year', 64],
  ['timezone', 'timezone', 63],
] as const;

/** Checks a crontab row: column lengths here, fields and time zone by the schedule engine. */
export function checkCrontab(fields: CrontabFields): CheckResult<Schedule> {
  const issues: ValidationIssue[] = [];
  for (const [key, column, maxLength] of CRONTAB_COLUMNS) {
    const value: unknown = fields[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') {
      issues.push(issue(`crontab.${column}`, value, 'is not a string'));
    } else if (characterCount(value) > maxLength) {
      issues.push(tooLong(`crontab.${column}`, value, maxLength));
    }
  }
  if (issues.length > 0) return { ok: false, issues };
  return build({
    kind: 'crontab',
    minute: fields.minute ?? '*',
    hour: fields.hour ?? '*',
    dayOfWeek: fields.dayOfWeek ?? '*',
    dayOfMonth: fields.dayOfMonth ?? '*',
    monthOfYear: fields.monthOfYear ?? '*',
    timezone: fields.timezone ?? 'UTC',
  });
}

/** Checks an interval row: `every` a whole number ≥ 1 that fits the int column, a known period. */
export function checkInterval(fields: IntervalFields): CheckResult<Schedule> {
  // The engine checks the rest; the column is a 4-byte integer.
  if (typeof fields.every === 'number' && fields.every > MAX_INT4) {
    return fail(issue('interval.every', fields.every, `is larger than ${MAX_INT4}`));
  }
  return build({ kind: 'interval', every: fields.every, period: fields.period });
}

/** Checks a solar row: a known event, latitude in [-90, 90] and longitude in [-180, 180]. */
export function checkSolar(fields: SolarFields): CheckResult<Schedule> {
  const latitude = toNumber(fields.latitude);
  const longitude = toNumber(fields.longitude);
  if (latitude === undefined) return fail(issue('solar.latitude', fields.latitude, 'is not a number'));
  if (longitude === undefined) return fail(issue('solar.longitude', fields.longitude, 'is not a number'));
  return build({ kind: 'solar', event: fields.event, latitude, longitude });
}

/** Checks a clocked row: a valid instant. */
export function checkClocked(fields: ClockedFields): CheckResult<Schedule> {
  if (!isValidDate(fields.clockedTime)) {
    return fail(issue('clocked.clocked_time', fields.clockedTime, 'is not a valid date and time'));
  }
  return build({ kind: 'clocked', clockedTime: fields.clockedTime });
}

/**
 * Checks a periodic task row against every rule of DESIGN.md §2 and returns
 * all the issues at once, or the decoded JSON columns and the parsed schedule.
 */
export function checkPeriodicTask(fields: PeriodicTaskFields, options: CheckOptions = {}): CheckResult<CheckedPeriodicTask> {
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
  for (const [key, column] of [['expires', 'expires'], ['startTime', 'start_time'], ['lastRunAt', 'last_run_at']] as const) {
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
  for (const [key, column] of [['oneOff', 'one_off'], ['enabled', 'enabled']] as const) {
    const value: unknown = fields[key];
    if (value !== undefined && typeof value !== 'boolean') issues.push(issue(column, value, 'is not a boolean'));
  }

  const schedule = checkAttachedSchedule(issues, fields, options.scheduleCache);
  if (issues.length > 0 || schedule === undefined) return { ok: false, issues };
  return {
    ok: true,
    value: {
      args: args as unknown[],
      kwargs: kwargs as Record<string, unknown>,
      headers: headers as Record<string, unknown>,
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
  scheduleCache?: Map<string, CheckResult<Schedule>>;
}

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
  switch (kind) {
    case 'crontab':
      return fields.crontab ? checkCrontab(fields.crontab) : missingRow('crontab', fields.crontabId);
    case 'interval':
      return fields.interval ? checkInterval(fields.interval) : missingRow('interval', fields.intervalId);
    case 'solar':
      return fields.solar ? checkSolar(fields.solar) : missingRow('solar', fields.solarId);
    case 'clocked':
      return fields.clocked ? checkClocked(fields.clocked) : missingRow('clocked', fields.clockedId);
  }
}

function cachedScheduleRow(
  cache: Map<string, CheckResult<Schedule>>,
  kind: ScheduleKindName,
  fields: PeriodicTaskFields,
): CheckResult<Schedule> {
  const row = fields[kind];
  if (!row) return checkScheduleRow(kind, fields);
  const key = `${kind}:${JSON.stringify(row)}`;
  let result = cache.get(key);
  if (!result) {
    result = checkScheduleRow(kind, fields);
    cache.set(key, result);
  }
  return result;
}

function missingRow(kind: ScheduleKindName, id: number | null | undefined): CheckResult<Schedule> {
  return fail(issue(`${kind}_id`, id, `names no ${kind} schedule row`));
}

function build(spec: ScheduleSpec): CheckResult<Schedule> {
  try {
    return { ok: true, value: buildSchedule(spec) };
  } catch (error) {
    if (error instanceof ScheduleError) {
      return fail({ field: error.field, value: error.value, message: error.message });
    }
    throw error;
  }
}

function checkRequiredText(issues: ValidationIssue[], column: string, value: unknown): void {
  if (typeof value !== 'string') issues.push(issue(column, value, 'is not a string'));
  else if (value.trim() === '') issues.push({ field: column, value, message: `${column}: must not be empty` });
  else if (characterCount(value) > MAX_NAME_LENGTH) issues.push(tooLong(column, value, MAX_NAME_LENGTH));
}

function checkOptionalText(issues: ValidationIssue[], column: string, value: unknown): void {
  if (value == null) return;
  if (typeof value !== 'string') issues.push(issue(column, value, 'is not a string'));
  else if (characterCount(value) > MAX_NAME_LENGTH) issues.push(tooLong(column, value, MAX_NAME_LENGTH));
}

// Decodes a JSON text column; Celery needs args as a list and kwargs/headers as an object.
function decodeJson(issues: ValidationIssue[], column: string, text: unknown, shape: 'list' | 'object'): unknown {
  const message = `${column}: not a JSON ${shape}`;
  if (typeof text !== 'string') {
    issues.push({ field: column, value: text, message });
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    issues.push({ field: column, value: text, message });
    return undefined;
  }
  const isList = Array.isArray(value);
  const isObject = typeof value === 'object' && value !== null && !isList;
  if (shape === 'list' ? !isList : !isObject) {
    issues.push({ field: column, value: text, message });
    return undefined;
  }
  return value;
}

function issue(field: string, value: unknown, reason: string): ValidationIssue {
  return { field, value, message: `${field}: ${describeValue(value)} ${reason}` };
}

function tooLong(field: string, value: string, maxLength: number): ValidationIssue {
  return issue(field, value, `is ${characterCount(value)} characters long, at most ${maxLength} allowed`);
}

function fail(single: ValidationIssue): CheckResult<never> {
  return { ok: false, issues: [single] };
}

// Like ScheduleError: JSON for plain values, ISO for dates; long strings are cut so messages stay readable.
function describeValue(value: unknown): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (typeof value === 'string' && value.length > 60) return `${JSON.stringify(value.slice(0, 60))}…`;
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

// PostgreSQL varchar(n) counts characters (code points), not UTF-16 units.
function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function isValidDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

function toNumber(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  const number = typeof value === 'number' ? value : Number(String(value));
  return Number.isFinite(number) ? number : undefined;
}
