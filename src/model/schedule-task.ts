// `prisma.periodicTask.schedule({...})`: the one-call way for people to schedule
// a task, like creating a PeriodicTask in Django with a get_or_create'd schedule.
import { zoneProblem } from '../schedules/zone.js';
import { toPyJson } from '../broker/pyjson.js';
import type { PeriodicTask, PrismaClient } from '../generated/prisma/client.js';
import type { Prisma } from '../generated/prisma/client.js';
import { markChanged } from './changes.js';
import { JSON_FIELDS, PLAIN_FIELDS } from './fields.js';
import {
  type ClockedFields,
  type CrontabFields,
  type IntervalFields,
  type PeriodicTaskFields,
  SCHEDULE_KINDS,
  type ScheduleKindName,
  type SolarFields,
  type ValidationIssue,
  ValidationError,
  checkPeriodicTask,
} from './validate.js';

/**
 * What `periodicTask.schedule()` takes: `name` (unique; an existing task of this name is
 * updated), `task` (the Celery task name, e.g. "proj.tasks.add"), exactly one schedule,
 * `args` / `kwargs` / `headers` as JS values (stored as JSON), and any of the task's plain
 * columns (fields.ts). A `clocked` task is one-off: `oneOff` defaults to true with it.
 */
export type ScheduleTaskInput = Pick<PeriodicTask, 'name' | 'task'> &
  Partial<Pick<PeriodicTask, (typeof PLAIN_FIELDS)[number]>> & {
    crontab?: CrontabFields;
    interval?: IntervalFields;
    solar?: SolarFields;
    clocked?: ClockedFields;
    /**
     * Positional arguments, stored as the JSON Python's json writes. A number
     * is what Python reads from JSON.stringify's text (3 an int, 1.5 a float);
     * `PyNumber.float(1)` stores `1.0`, a bigint or `PyNumber.int('9007199254740993')`
     * every digit, NaN and ±Infinity as Python writes them (toPyValue in broker/pyjson.ts).
     */
    args?: readonly unknown[];
    /** Keyword arguments, stored as `args` is. */
    kwargs?: Record<string, unknown>;
    /** Extra message headers, stored as `args` is. */
    headers?: Record<string, unknown>;
  };

/** The task's own columns, as stored. */
type TaskColumns = Pick<PeriodicTaskFields, 'task'> &
  Partial<Pick<PeriodicTaskFields, (typeof PLAIN_FIELDS)[number] | (typeof JSON_FIELDS)[number]>>;

/**
 * Validates `input` (merged with the existing task of that name), finds or
 * creates its schedule row, upserts the task by name and marks tasks changed,
 * all in one transaction. Fields not given keep their current values on an
 * update; the schedule given replaces the task's schedule.
 *
 * @throws ValidationError naming every broken rule; nothing is written then.
 */
export async function scheduleTask(client: PrismaClient, input: ScheduleTaskInput): Promise<PeriodicTask> {
  const columns = columnsOf(input);
  return client.$transaction(async (tx) => {
    const existing = await tx.periodicTask.findUnique({ where: { name: input.name } });
    const fields: PeriodicTaskFields = { ...(existing ?? {}), name: input.name, ...columns };
    for (const kind of SCHEDULE_KINDS) {
      fields[kind] = (input[kind] ?? null) as never;
      fields[`${kind}Id`] = null;
    }
    const checked = checkPeriodicTask(fields);
    if (!checked.ok) throw new ValidationError(checked.issues);

    const kind = SCHEDULE_KINDS.find((candidate) => input[candidate] !== undefined) as ScheduleKindName;
    const scheduleId = await findOrCreateSchedule(tx, kind, input);
    const links = {
      intervalId: kind === 'interval' ? scheduleId : null,
      crontabId: kind === 'crontab' ? scheduleId : null,
      solarId: kind === 'solar' ? scheduleId : null,
      clockedId: kind === 'clocked' ? scheduleId : null,
    };
    const task = await tx.periodicTask.upsert({
      where: { name: input.name },
      create: { ...columns, name: input.name, task: input.task, ...links },
      update: { ...columns, ...links },
    });
    await markChanged(tx);
    return task;
  });
}

// The task's columns as the table stores them: JSON text for args/kwargs/headers.
function columnsOf(input: ScheduleTaskInput): TaskColumns {
  const columns: Record<string, unknown> = {};
  for (const key of PLAIN_FIELDS) if (input[key] !== undefined) columns[key] = input[key];
  if (input.clocked !== undefined && input.oneOff === undefined) columns.oneOff = true;
  const issues: ValidationIssue[] = [];
  for (const key of JSON_FIELDS) {
    if (input[key] === undefined) continue;
    try {
      // Python's JSON, so that each value keeps its Python type.
      columns[key] = toPyJson(input[key], key);
    } catch (error) {
      issues.push({
        field: key,
        value: input[key],
        message: `${key}: cannot be encoded as JSON (${(error as Error).message})`,
      });
    }
  }
  if (issues.length > 0) throw new ValidationError(issues);
  // task is always given; the other keys are the optional columns of the table.
  return columns as TaskColumns;
}

/** Django's get_or_create: the first schedule row with these exact values, or a new one; returns its id. */
export async function findOrCreateSchedule(
  tx: Prisma.TransactionClient,
  kind: ScheduleKindName,
  input: Pick<ScheduleTaskInput, ScheduleKindName>,
): Promise<number> {
  switch (kind) {
    case 'crontab': {
      const given = input.crontab ?? {};
      const values = {
        minute: given.minute ?? '*',
        hour: given.hour ?? '*',
        dayOfWeek: given.dayOfWeek ?? '*',
        dayOfMonth: given.dayOfMonth ?? '*',
        monthOfYear: given.monthOfYear ?? '*',
        timezone: given.timezone ?? defaultCrontabTimezone(),
      };
      const found = await tx.crontabSchedule.findFirst({ where: values, orderBy: { id: 'asc' } });
      return (found ?? (await tx.crontabSchedule.create({ data: values }))).id;
    }
    case 'interval': {
      const values = { every: input.interval!.every, period: input.interval!.period };
      const found = await tx.intervalSchedule.findFirst({ where: values, orderBy: { id: 'asc' } });
      return (found ?? (await tx.intervalSchedule.create({ data: values }))).id;
    }
    case 'solar': {
      const solar = input.solar!;
      const values = { event: solar.event, latitude: String(solar.latitude), longitude: String(solar.longitude) };
      const found = await tx.solarSchedule.findFirst({ where: values, orderBy: { id: 'asc' } });
      return (found ?? (await tx.solarSchedule.create({ data: values }))).id;
    }
    case 'clocked': {
      const values = { clockedTime: input.clocked!.clockedTime };
      const found = await tx.clockedSchedule.findFirst({ where: values, orderBy: { id: 'asc' } });
      return (found ?? (await tx.clockedSchedule.create({ data: values }))).id;
    }
  }
}

/**
 * The zone of a crontab row written without one: CELERY_TIMEZONE when it names a
 * known zone, else UTC (django-celery-beat's crontab_schedule_celery_timezone).
 */
export function defaultCrontabTimezone(env: NodeJS.ProcessEnv = process.env): string {
  const zone = env.CELERY_TIMEZONE;
  return zone && zoneProblem(zone) === null ? zone : 'UTC';
}
