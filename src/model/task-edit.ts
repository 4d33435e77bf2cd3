// Creating, editing, enabling, disabling and deleting tasks by id, for the console
// and the command line. Every check is checkPeriodicTask's (validate.ts) and every
// schedule row is found or created as `periodicTask.schedule()` does it
// (schedule-task.ts), so the console accepts exactly what schedule() accepts.
// JSON columns (args, kwargs, headers) are taken and stored as the caller's text,
// never re-encoded, so big integers, 1.0 and NaN reach the worker unchanged.
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import { consoleStatements } from '../db/console-statements.js';
import { isMysqlClient, markChanged } from '../model/changes.js';
import { findOrCreateSchedule } from '../model/schedule-task.js';
import {
  type ClockedFields,
  type CrontabFields,
  type IntervalFields,
  type PeriodicTaskFields,
  SCHEDULE_KINDS,
  type ScheduleKindName,
  type SolarFields,
  ValidationError,
  checkPeriodicTask,
} from '../model/validate.js';
import { JSON_FIELDS, PLAIN_FIELDS } from './fields.js';

/** The fields of a task as `schedule()` takes them, JSON columns as text. All optional in an edit. */
export interface TaskInput {
  name?: string;
  /** Celery task name, e.g. "proj.tasks.add". */
  task?: string;
  crontab?: CrontabFields;
  interval?: IntervalFields;
  solar?: SolarFields;
  clocked?: ClockedFields;
  /** JSON text of a list, stored as given. */
  args?: string;
  /** JSON text of an object, stored as given. */
  kwargs?: string;
  /** JSON text of an object, stored as given. */
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
}

/** The task's own columns an input may set (the schedule aside): from the one field list. */
const COLUMNS = ['name', ...JSON_FIELDS, ...PLAIN_FIELDS] as const;
type Column = (typeof COLUMNS)[number];

/** A change of one field: its value before and after (schedules as their row's fields). */
export interface FieldChange {
  from: unknown;
  to: unknown;
}

/** What a write did, for the audit log. */
export interface TaskWrite {
  id: number;
  name: string;
  changes: Record<string, FieldChange>;
}

/** The task does not exist (any more). */
export class TaskNotFoundError extends Error {
  override readonly name = 'TaskNotFoundError';
  constructor(readonly id: number | string) {
    super(`task ${JSON.stringify(id)} does not exist`);
  }
}

/** Someone else changed the task since the version the caller edited was read. */
export class VersionConflictError extends Error {
  override readonly name = 'VersionConflictError';
  constructor(
    readonly id: number,
    readonly expected: string,
    readonly current: string,
  ) {
    super(`task ${id} was changed by someone else (version ${expected} is now ${current}); reload it and edit again`);
  }
}

type Tx = Prisma.TransactionClient;
type TaskWithSchedules = Prisma.PeriodicTaskGetPayload<{
  include: { crontab: true; interval: true; solar: true; clocked: true };
}>;

/**
 * Creates a task. `name` must be new (an existing name is a validation issue on
 * `name`); everything else as `schedule()`.
 * @throws ValidationError naming every broken rule; nothing is written then.
 */
export async function createTask(client: PrismaClient, input: TaskInput): Promise<TaskWrite> {
  return client.$transaction(async (tx) => {
    const fields: PeriodicTaskFields = { ...(columnsOf(input) as PeriodicTaskFields), ...scheduleOf(input) };
    if (input.clocked !== undefined && input.oneOff === undefined) fields.oneOff = true;
    await check(tx, fields, undefined);
    const kind = givenKind(input)!;
    const scheduleId = await findOrCreateSchedule(tx, kind, input);
    const data = { ...(columnsOf(input) as Prisma.PeriodicTaskUncheckedCreateInput), ...linksOf(kind, scheduleId) };
    if (fields.oneOff === true) data.oneOff = true;
    const created = await tx.periodicTask.create({ data });
    await markChanged(tx);
    const changes: Record<string, FieldChange> = {};
    for (const [key, value] of Object.entries(columnsOf(input))) changes[key] = { from: null, to: value };
    changes[kind] = { from: null, to: input[kind] };
    return { id: created.id, name: created.name, changes };
  });
}

/**
 * Edits a task. Fields not given keep their values; a schedule given replaces the
 * task's schedule (found or created as `schedule()` does). With `expectedVersion`
 * (the `version` the caller read), the edit is refused when the row changed since,
 * by anyone: this console, Django admin or SQL.
 * @throws TaskNotFoundError, VersionConflictError, ValidationError (nothing is written then)
 */
export async function updateTask(
  client: PrismaClient,
  id: number,
  input: TaskInput,
  expectedVersion?: string,
): Promise<TaskWrite> {
  return client.$transaction(async (tx) => {
    await lockAndCheckVersion(tx, id, expectedVersion);
    const existing = await tx.periodicTask.findUnique({
      where: { id },
      include: { crontab: true, interval: true, solar: true, clocked: true },
    });
    if (existing === null) throw new TaskNotFoundError(id);
    const columns = columnsOf(input);
    const kind = givenKind(input);
    const fields: PeriodicTaskFields = { ...fieldsOf(existing), ...(columns as Partial<PeriodicTaskFields>) };
    if (kind !== undefined) {
      // The given schedule replaces the task's, whatever its kind (the old row and id cleared).
      const cleared = { crontabId: null, intervalId: null, solarId: null, clockedId: null };
      Object.assign(fields, cleared, { crontab: null, interval: null, solar: null, clocked: null }, scheduleOf(input));
      if (kind === 'clocked' && input.oneOff === undefined) fields.oneOff = true;
    }
    await check(tx, fields, id);

    const data: Prisma.PeriodicTaskUncheckedUpdateInput = { ...(columns as Prisma.PeriodicTaskUncheckedUpdateInput) };
    if (fields.oneOff !== existing.oneOff) data.oneOff = fields.oneOff;
    if (existing.enabled && !fields.enabled) data.lastRunAt = null; // as setTasksEnabled
    const changes = diff(existing, columns);
    if (kind !== undefined) {
      const scheduleId = await findOrCreateSchedule(tx, kind, input);
      Object.assign(data, linksOf(kind, scheduleId));
      const before = currentKind(existing);
      changes.schedule = {
        from: before === undefined ? null : { [before]: scheduleFields(existing, before) },
        to: { [kind]: input[kind] },
      };
    }
    const updated = await tx.periodicTask.update({ where: { id }, data });
    await markChanged(tx);
    return { id, name: updated.name, changes };
  });
}

/**
 * Deletes tasks by id. With `expectedVersion` (one id only), refuses when the row changed since.
 * Returns the deleted tasks; ids that do not exist are skipped.
 */
export async function deleteTasks(client: PrismaClient, ids: number[], expectedVersion?: string): Promise<TaskWrite[]> {
  return client.$transaction(async (tx) => {
    if (expectedVersion !== undefined && ids.length === 1) await lockAndCheckVersion(tx, ids[0]!, expectedVersion);
    const rows = await tx.periodicTask.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } });
    if (rows.length === 0) return [];
    await tx.periodicTask.deleteMany({ where: { id: { in: rows.map((row) => row.id) } } });
    await markChanged(tx);
    return rows.map((row) => ({ id: row.id, name: row.name, changes: { deleted: { from: false, to: true } } }));
  });
}

/**
 * Enables or disables tasks by id (no validation: a bad row may be disabled, and an
 * enabled bad row is reported by the beat). As in django-celery-beat (PeriodicTask.save()
 * and its admin action since its #501), disabling clears last_run_at and date_changed moves,
 * so a task enabled after a long pause starts from then, even across a beat restart,
 * instead of running at once for the slots it missed (django-celery-beat#383, #510).
 * Returns the tasks whose flag changed.
 */
export async function setTasksEnabled(client: PrismaClient, ids: number[], enabled: boolean): Promise<TaskWrite[]> {
  return client.$transaction(async (tx) => {
    const rows = await tx.periodicTask.findMany({
      where: { id: { in: ids }, enabled: !enabled },
      select: { id: true, name: true },
    });
    if (rows.length === 0) return [];
    await tx.periodicTask.updateMany({
      where: { id: { in: rows.map((row) => row.id) } },
      data: enabled ? { enabled } : { enabled, lastRunAt: null },
    });
    await markChanged(tx);
    return rows.map((row) => ({ id: row.id, name: row.name, changes: { enabled: { from: !enabled, to: enabled } } }));
  });
}

// ---- helpers ------------------------------------------------------------------------

async function lockAndCheckVersion(tx: Tx, id: number, expected: string | undefined): Promise<void> {
  // The client was generated for one provider; its statements are that dialect's.
  const { LOCK_TASK_VERSION } = consoleStatements({ kind: isMysqlClient(tx) ? 'mysql' : 'postgres' });
  const rows = await tx.$queryRawUnsafe<{ version: string }[]>(LOCK_TASK_VERSION, id);
  const row = rows[0];
  if (row === undefined) throw new TaskNotFoundError(id);
  if (expected !== undefined && row.version !== expected) throw new VersionConflictError(id, expected, row.version);
}

// checkPeriodicTask's rules, and a name no other task has.
async function check(tx: Tx, fields: PeriodicTaskFields, id: number | undefined): Promise<void> {
  const checked = checkPeriodicTask(fields);
  const issues = checked.ok ? [] : [...checked.issues];
  if (typeof fields.name === 'string') {
    const other = await tx.periodicTask.findUnique({ where: { name: fields.name }, select: { id: true } });
    if (other !== null && other.id !== id) {
      issues.push({
        field: 'name',
        value: fields.name,
        message: `name: ${JSON.stringify(fields.name)} is already the name of task ${other.id}`,
      });
    }
  }
  if (issues.length > 0) throw new ValidationError(issues);
}

function columnsOf(input: TaskInput): Partial<Record<Column, unknown>> {
  const columns: Partial<Record<Column, unknown>> = {};
  for (const key of COLUMNS) if (input[key] !== undefined) columns[key] = input[key];
  return columns;
}

function givenKind(input: TaskInput): ScheduleKindName | undefined {
  return SCHEDULE_KINDS.find((kind) => input[kind] !== undefined);
}

// The schedules given, for the check: every given one (so two given is reported).
function scheduleOf(input: TaskInput): Partial<PeriodicTaskFields> {
  const fields: Partial<PeriodicTaskFields> = {};
  for (const kind of SCHEDULE_KINDS)
    if (input[kind] !== undefined) (fields as Record<string, unknown>)[kind] = input[kind];
  return fields;
}

function linksOf(kind: ScheduleKindName, scheduleId: number) {
  return {
    intervalId: kind === 'interval' ? scheduleId : null,
    crontabId: kind === 'crontab' ? scheduleId : null,
    solarId: kind === 'solar' ? scheduleId : null,
    clockedId: kind === 'clocked' ? scheduleId : null,
  };
}

function fieldsOf(row: TaskWithSchedules): PeriodicTaskFields {
  return {
    ...row,
    crontab: row.crontab,
    interval: row.interval,
    solar: row.solar,
    clocked: row.clocked,
  };
}

function currentKind(row: TaskWithSchedules): ScheduleKindName | undefined {
  return SCHEDULE_KINDS.find((kind) => row[`${kind}Id`] !== null);
}

function scheduleFields(row: TaskWithSchedules, kind: ScheduleKindName): unknown {
  const schedule = row[kind] as Record<string, unknown> | null;
  if (schedule === null) return null;
  const { id: _id, ...fields } = schedule;
  return fields;
}

function diff(existing: TaskWithSchedules, columns: Partial<Record<Column, unknown>>): Record<string, FieldChange> {
  const changes: Record<string, FieldChange> = {};
  for (const [key, to] of Object.entries(columns)) {
    const from = (existing as Record<string, unknown>)[key];
    if (comparable(from) !== comparable(to)) changes[key] = { from: from ?? null, to: to ?? null };
  }
  return changes;
}

function comparable(value: unknown): string {
  return value instanceof Date ? value.toISOString() : JSON.stringify(value ?? null);
}
