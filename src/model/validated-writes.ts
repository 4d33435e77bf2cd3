// Turns the arguments of a Prisma write into the row it will produce and checks
// that row with validate.ts, before anything is written. Creates are checked
// as given (with the table's defaults), updates as the current row merged with
// the data, schedule connects by loading the schedule row.
//
// Limits: updateMany/updateManyAndReturn are checked from their data alone
// (JSON columns, ranges, lengths, two schedule ids set at once, the schedule rows
// they name), not against the rows they hit: `updateMany({ data: { crontabId } })`
// on tasks that have an interval is not caught. Nested writes are checked where
// they create or update the row being written (a task's `crontab: { create }`,
// a schedule's `periodicTasks: { create }`), not deeper.
import type { TrackedModel } from './changes.js';
import {
  type CheckResult,
  type ClockedFields,
  type IntervalFields,
  type PeriodicTaskFields,
  SCHEDULE_KINDS,
  type ScheduleKindName,
  type SolarFields,
  type ValidationIssue,
  ValidationError,
  checkClocked,
  checkCrontab,
  checkInterval,
  checkPeriodicTask,
  checkSolar,
} from './validate.js';

/** A database row or a Prisma data object: column values by Prisma field name. */
export type Row = Record<string, unknown>;

/** Reads rows in the same transaction as the write being checked. */
export interface RowReader {
  findUnique(model: TrackedModel, args: { where: Row; include?: Row }): Promise<Row | null>;
}

const scheduleModelOf: Record<ScheduleKindName, TrackedModel> = {
  interval: 'IntervalSchedule',
  crontab: 'CrontabSchedule',
  solar: 'SolarSchedule',
  clocked: 'ClockedSchedule',
};

const kindOfModel: Partial<Record<TrackedModel, ScheduleKindName>> = {
  IntervalSchedule: 'interval',
  CrontabSchedule: 'crontab',
  SolarSchedule: 'solar',
  ClockedSchedule: 'clocked',
};

const allSchedules = { interval: true, crontab: true, solar: true, clocked: true } as const;

/**
 * Checks the row(s) that `operation` on `model` with `args` would write.
 * Throws ValidationError naming every broken rule; returns when all is well.
 */
export async function validateWrite(
  model: TrackedModel,
  operation: string,
  args: Row,
  reader: RowReader,
): Promise<void> {
  const issues =
    model === 'PeriodicTask'
      ? await checkTaskWrite(operation, args, reader)
      : await checkScheduleWrite(kindOfModel[model] ?? 'interval', operation, args, reader);
  if (issues.length > 0) throw new ValidationError(issues);
}

async function checkTaskWrite(operation: string, args: Row, reader: RowReader): Promise<ValidationIssue[]> {
  switch (operation) {
    case 'create':
      return issuesOf(checkTaskRow(await taskAfterWrite(undefined, asRow(args.data), reader)));
    case 'createMany':
    case 'createManyAndReturn':
      return checkEach(asRows(args.data), async (data) =>
        issuesOf(checkTaskRow(await taskAfterWrite(undefined, data, reader))),
      );
    case 'update': {
      const current = await reader.findUnique('PeriodicTask', { where: asRow(args.where), include: allSchedules });
      // No such row: let Prisma report it as it always does.
      if (current === null) return [];
      return issuesOf(checkTaskRow(await taskAfterWrite(current, asRow(args.data), reader)));
    }
    case 'upsert': {
      const current = await reader.findUnique('PeriodicTask', { where: asRow(args.where), include: allSchedules });
      const data = asRow(current === null ? args.create : args.update);
      return issuesOf(checkTaskRow(await taskAfterWrite(current ?? undefined, data, reader)));
    }
    case 'updateMany':
    case 'updateManyAndReturn':
      return checkTaskPatch(await taskAfterWrite(undefined, asRow(args.data), reader));
    default:
      return [];
  }
}

async function checkScheduleWrite(
  kind: ScheduleKindName,
  operation: string,
  args: Row,
  reader: RowReader,
): Promise<ValidationIssue[]> {
  const model = scheduleModelOf[kind];
  switch (operation) {
    case 'create':
      return checkScheduleRowAndTasks(kind, undefined, asRow(args.data), reader);
    case 'createMany':
    case 'createManyAndReturn':
      return checkEach(asRows(args.data), (data) =>
        Promise.resolve(issuesOf(checkScheduleFields(kind, applyData({}, data)))),
      );
    case 'update': {
      const current = await reader.findUnique(model, { where: asRow(args.where) });
      if (current === null) return [];
      return checkScheduleRowAndTasks(kind, current, asRow(args.data), reader);
    }
    case 'upsert': {
      const current = await reader.findUnique(model, { where: asRow(args.where) });
      const data = asRow(current === null ? args.create : args.update);
      return checkScheduleRowAndTasks(kind, current ?? undefined, data, reader);
    }
    case 'updateMany':
    case 'updateManyAndReturn':
      // Columns not in the data are assumed valid: fill them with harmless values.
      return issuesOf(checkScheduleFields(kind, applyData(neutralSchedule[kind], asRow(args.data))));
    default:
      return [];
  }
}

const neutralSchedule: Record<ScheduleKindName, Row> = {
  interval: { every: 1, period: 'seconds' },
  crontab: {},
  solar: { event: 'sunrise', latitude: 0, longitude: 0 },
  clocked: { clockedTime: new Date(0) },
};

// A schedule row, and the tasks a nested `periodicTasks: { create }` would attach to it.
async function checkScheduleRowAndTasks(
  kind: ScheduleKindName,
  current: Row | undefined,
  data: Row,
  reader: RowReader,
): Promise<ValidationIssue[]> {
  const row = applyData(current ?? {}, data);
  const result = checkScheduleFields(kind, row);
  if (!result.ok) return result.issues;
  const nested = asRow(data.periodicTasks);
  return checkEach(asRows(nested.create), async (taskData) => {
    const task = await taskAfterWrite(undefined, taskData, reader);
    return issuesOf(checkTaskRow({ ...task, [kind]: row }));
  });
}

function checkScheduleFields(kind: ScheduleKindName, row: Row): CheckResult<unknown> {
  switch (kind) {
    case 'crontab':
      return checkCrontab(row);
    case 'interval':
      return checkInterval(row as unknown as IntervalFields);
    case 'solar':
      return checkSolar(row as unknown as SolarFields);
    case 'clocked':
      return checkClocked(row as unknown as ClockedFields);
  }
}

// Data of an updateMany: fields it does not set are assumed valid.
function checkTaskPatch(patch: Row): ValidationIssue[] {
  const fields: Row = { name: 'unchanged', task: 'unchanged', ...patch };
  const kinds = SCHEDULE_KINDS.filter((kind) => patch[kind] != null);
  if (kinds.length === 0) fields.interval = neutralSchedule.interval;
  // Whether the rows hit are one-off cannot be known from the data alone.
  if (kinds.includes('clocked') && patch.oneOff === undefined) fields.oneOff = true;
  return issuesOf(checkTaskRow(fields));
}

/**
 * The task row after applying Prisma `data` to `current` (or to nothing, for a
 * create), with each schedule relation resolved to its row (or null).
 */
async function taskAfterWrite(current: Row | undefined, data: Row, reader: RowReader): Promise<Row> {
  const scalars: Row = {};
  for (const [key, value] of Object.entries(data)) {
    if (SCHEDULE_KINDS.includes(key as ScheduleKindName) || key.endsWith('Id')) continue;
    scalars[key] = value;
  }
  const row = applyData(current ?? {}, scalars);
  for (const kind of SCHEDULE_KINDS) {
    const idKey = `${kind}Id`;
    if (data[idKey] !== undefined) {
      const id = unwrapSet(data[idKey]);
      row[idKey] = id;
      row[kind] = id == null ? null : await reader.findUnique(scheduleModelOf[kind], { where: { id } });
    } else if (data[kind] !== undefined) {
      const attached = await relationAfterWrite(kind, asRow(current?.[kind]), asRow(data[kind]), reader);
      if (attached !== undefined) {
        row[kind] = attached.row;
        row[idKey] = attached.id;
      }
    }
  }
  return row;
}

/** The schedule row a relation write leaves attached (null: none, or a connect to a missing row) and its id. */
interface Attached {
  row: Row | null;
  id: unknown;
}

// What a nested relation write on a task leaves attached; undefined when it changes nothing.
async function relationAfterWrite(
  kind: ScheduleKindName,
  current: Row,
  write: Row,
  reader: RowReader,
): Promise<Attached | undefined> {
  const model = scheduleModelOf[kind];
  const hasCurrent = Object.keys(current).length > 0;
  const created = (row: Row): Attached => ({ row, id: 'new' });
  if (write.disconnect === true || write.delete === true) return { row: null, id: null };
  if (write.connect !== undefined) {
    const where = asRow(write.connect);
    // A missing row keeps its id, so the check reports "crontab_id: 7 names no crontab schedule row".
    const found = await reader.findUnique(model, { where });
    return { row: found, id: found?.id ?? where.id ?? JSON.stringify(where) };
  }
  if (write.connectOrCreate !== undefined) {
    const connectOrCreate = asRow(write.connectOrCreate);
    const found = await reader.findUnique(model, { where: asRow(connectOrCreate.where) });
    return found === null ? created(applyData({}, asRow(connectOrCreate.create))) : { row: found, id: found.id };
  }
  if (write.create !== undefined) return created(applyData({}, asRow(write.create)));
  if (write.upsert !== undefined) {
    const upsert = asRow(write.upsert);
    return hasCurrent
      ? { row: applyData(current, asRow(upsert.update)), id: current.id }
      : created(applyData({}, asRow(upsert.create)));
  }
  if (write.update !== undefined && hasCurrent) {
    const update = asRow(write.update);
    // `update: { where, data }` or the data itself
    return { row: applyData(current, asRow(update.data ?? update)), id: current.id };
  }
  return undefined;
}

/** `current` with Prisma scalar `data` applied: plain values, `{ set }`, and number operations. */
export function applyData(current: Row, data: Row): Row {
  const row: Row = { ...current };
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined) continue;
    row[key] = applyOperation(current[key], value);
  }
  return row;
}

function applyOperation(current: unknown, value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  if ('set' in value) return value.set;
  // As in SQL, arithmetic on NULL stays NULL.
  if (current === null) return null;
  const base = typeof current === 'number' ? current : Number.NaN;
  if (typeof value.increment === 'number') return base + value.increment;
  if (typeof value.decrement === 'number') return base - value.decrement;
  if (typeof value.multiply === 'number') return base * value.multiply;
  if (typeof value.divide === 'number') return Math.trunc(base / value.divide);
  return value;
}

function unwrapSet(value: unknown): unknown {
  return isPlainObject(value) && 'set' in value ? value.set : value;
}

// checkPeriodicTask tests every value's type at run time, so a row of unknown values may be handed to it.
function checkTaskRow(row: Row): CheckResult<unknown> {
  return checkPeriodicTask(row as unknown as PeriodicTaskFields);
}

function issuesOf(result: CheckResult<unknown>): ValidationIssue[] {
  return result.ok ? [] : result.issues;
}

async function checkEach(rows: Row[], check: (row: Row) => Promise<ValidationIssue[]>): Promise<ValidationIssue[]> {
  const issues: ValidationIssue[] = [];
  for (const [index, row] of rows.entries()) {
    const rowIssues = await check(row);
    // Several rows: say which one, by name where there is one.
    const label =
      rows.length > 1 ? `${typeof row.name === 'string' ? JSON.stringify(row.name) : `row ${index}`}: ` : '';
    issues.push(...rowIssues.map((issue) => ({ ...issue, message: `${label}${issue.message}` })));
  }
  return issues;
}

function asRow(value: unknown): Row {
  return isPlainObject(value) ? value : {};
}

function asRows(value: unknown): Row[] {
  if (Array.isArray(value)) return value.filter(isPlainObject);
  return isPlainObject(value) ? [value] : [];
}

function isPlainObject(value: unknown): value is Row {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}
