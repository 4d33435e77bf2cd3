// The task's fields, in one place. The Prisma model (prisma/schema.prisma, generated into
// PeriodicTask) gives each field its type; TASK_COLUMNS below names its column in
// django_celery_beat_periodictask. Everything else is derived from these two or checked
// against them by the compiler: the write API's input (ScheduleTaskInput), the checked
// fields (PeriodicTaskFields), and the beat's row (TaskRow in db/store.ts, whose SQL in
// db/<dialect>/ must select every column it declares).
import type { TaskRow } from '../db/store.js';
import type { PeriodicTask } from '../generated/prisma/client.js';

/** Prisma field name → column name, for every column of django_celery_beat_periodictask. */
export const TASK_COLUMNS = {
  id: 'id',
  name: 'name',
  task: 'task',
  intervalId: 'interval_id',
  crontabId: 'crontab_id',
  solarId: 'solar_id',
  clockedId: 'clocked_id',
  args: 'args',
  kwargs: 'kwargs',
  queue: 'queue',
  exchange: 'exchange',
  routingKey: 'routing_key',
  priority: 'priority',
  headers: 'headers',
  expires: 'expires',
  expireSeconds: 'expire_seconds',
  oneOff: 'one_off',
  startTime: 'start_time',
  enabled: 'enabled',
  lastRunAt: 'last_run_at',
  totalRunCount: 'total_run_count',
  dateChanged: 'date_changed',
  description: 'description',
} as const satisfies Record<keyof PeriodicTask, string>;

/** A task field's name as Prisma spells it. */
export type TaskField = keyof typeof TASK_COLUMNS;

/** The columns that hold JSON text (the user's data, passed on to the worker). */
export const JSON_FIELDS = ['args', 'kwargs', 'headers'] as const satisfies readonly TaskField[];

/** The fields a caller sets as plain values (no JSON, no schedule link, no bookkeeping). */
export const PLAIN_FIELDS = [
  'task',
  'queue',
  'exchange',
  'routingKey',
  'priority',
  'expires',
  'expireSeconds',
  'oneOff',
  'startTime',
  'enabled',
  'description',
] as const satisfies readonly TaskField[];

/** The beat's own bookkeeping: writing only these is not a change (model/changes.ts). */
export const BOOKKEEPING_FIELDS = ['lastRunAt', 'totalRunCount'] as const satisfies readonly TaskField[];

/** The schedule links, one per kind. */
export const SCHEDULE_LINK_FIELDS = [
  'intervalId',
  'crontabId',
  'solarId',
  'clockedId',
] as const satisfies readonly TaskField[];

// ---- compile-time checks ---------------------------------------------------------

type Columns = (typeof TASK_COLUMNS)[TaskField];
/** The beat does not read a task's description. */
type UnreadColumns = typeof TASK_COLUMNS.description;
/** Fails to compile (naming the column) when TaskRow lacks a column the list has… */
type MissingFromTaskRow = Exclude<Exclude<Columns, UnreadColumns>, keyof TaskRow>;
/** …or has a task column (not a c_/i_/s_/k_ schedule column) that the list lacks. */
type UnknownInTaskRow = Exclude<Exclude<keyof TaskRow, `${'c' | 'i' | 's' | 'k'}_${string}`>, Columns>;
const taskRowMatches: [MissingFromTaskRow, UnknownInTaskRow] extends [never, never]
  ? true
  : [MissingFromTaskRow, UnknownInTaskRow] = true;
void taskRowMatches;

/** Every field is in exactly one of the groups above, or is id/name. */
type Grouped =
  | 'id'
  | 'name'
  | (typeof JSON_FIELDS)[number]
  | (typeof PLAIN_FIELDS)[number]
  | (typeof BOOKKEEPING_FIELDS)[number]
  | (typeof SCHEDULE_LINK_FIELDS)[number]
  | 'dateChanged';
const everyFieldGrouped: Exclude<TaskField, Grouped> extends never ? true : Exclude<TaskField, Grouped> = true;
void everyFieldGrouped;
