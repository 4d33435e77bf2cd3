// What the task table keeps of a task and hands to the send path: the checked task
// (TaskVersion), its shared parts (SendProfile, ScheduleRef), the SendSpec a run is sent
// from, and the rule for a task's next slot.
import type { ResolvedTask } from '../model/task-row.js';
import type { Schedule } from '../schedules/types.js';

/**
 * What sending a run needs of its task, kept from the checked row so that a run is sent
 * without reading the row again (the change log names the rows to read again). Only
 * these fields: the row itself, with its schedule columns, would double the memory of a
 * million tasks. One object per task version: the broker caches by its identity (and by
 * its args object's).
 */
export interface SendSpec {
  name: string;
  task: string;
  queue: string | null;
  exchange: string | null;
  routingKey: string | null;
  priority: number | null;
  /** Epoch ms. */
  expires: number | null;
  expireSeconds: number | null;
  oneOff: boolean;
  args: ResolvedTask['args'];
  kwargs: ResolvedTask['kwargs'];
  headers: ResolvedTask['headers'];
}

/** The part of a SendSpec that many tasks share (one object for all tasks with equal fields). */
export type SendProfile = Omit<SendSpec, 'name' | 'expires' | 'args'>;

/** What sending a run of `task` needs of it. */
export function sendSpecOf(task: ResolvedTask): SendSpec {
  const { row } = task;
  return {
    name: row.name,
    task: row.task,
    queue: row.queue,
    exchange: row.exchange,
    routingKey: row.routing_key,
    priority: row.priority,
    expires: row.expires,
    expireSeconds: row.expire_seconds,
    oneOff: row.one_off,
    args: task.args,
    kwargs: task.kwargs,
    headers: task.headers,
  };
}

/**
 * A checked schedule and the key of its content (a change of key means the schedule was
 * edited), shared by the tasks that use it; it remembers its last next-run computation,
 * which tasks loaded with the same last run share.
 */
export class ScheduleRef {
  private memoBase = NaN;
  private memoStart: number | null = null;
  private memoNeverRun = false;
  private memoSlot: number | null = null;

  constructor(
    readonly schedule: Schedule,
    readonly key: string,
  ) {}

  /** nextSlot of this schedule (a pure function of its arguments, so the last answer is reused). */
  nextSlot(base: number, startTime: number | null, neverRun: boolean): number | null {
    if (base === this.memoBase && startTime === this.memoStart && neverRun === this.memoNeverRun) return this.memoSlot;
    const slot = nextSlot(this.schedule, base, startTime, neverRun);
    this.memoBase = base;
    this.memoStart = startTime;
    this.memoNeverRun = neverRun;
    this.memoSlot = slot;
    return slot;
  }
}

/** A checked task row, as the table takes it (see TaskTable.put). */
export interface TaskVersion {
  id: number;
  name: string;
  /** The args column's text, checked to be a JSON list; parsed when a run is sent. */
  args: string;
  profile: SendProfile;
  /** Epoch ms. */
  expires: number | null;
  startTime: number | null;
  lastRunAt: number | null;
  dateChanged: number;
  /** Has a clocked schedule: runs at its time even when saved after it. */
  clocked: boolean;
  schedule: ScheduleRef;
}

/** A scheduled task as the send path sees it: what to send, and the slot its next run is for. */
export interface Entry {
  spec: SendSpec;
  /** Epoch ms of the slot the next run is for. */
  slot: number;
}

/** The earliest instant a Date can hold. */
const EARLIEST_DATE = -8.64e15;

/**
 * Where a task's next run is counted from when the beat loads it (the one rule the beat,
 * the console, `dbbeat tasks` and `dbbeat next` share): its last run; never run, its
 * date_changed, except that a clocked task that never ran runs at its time even when it
 * was saved after it (django-celery-beat's clocked schedule is due once its time has
 * passed), so its base is the earliest instant. `neverRun` is nextSlot's fourth argument.
 * @param task epoch ms; `clocked`: it has a clocked schedule
 */
export function firstBase(task: { lastRunAt: number | null; dateChanged: number; clocked: boolean }): {
  base: number;
  neverRun: boolean;
} {
  if (task.lastRunAt !== null) return { base: task.lastRunAt, neverRun: false };
  return { base: task.clocked ? EARLIEST_DATE : task.dateChanged, neverRun: true };
}

/**
 * The slot of a task's next run after `base` (its last run; never run, its date_changed
 * or, after an edit, the moment of the edit), given its start_time. Nothing is sent
 * before start_time:
 * - an interval task runs at the later of start_time and `base + every`, and a task
 *   never run runs at start_time itself (django-celery-beat's rule since its fix of
 *   "start_time with an interval": a daily task starts on its day, not a day late);
 * - a crontab, solar or clocked task runs at its first slot at or after start_time.
 * Null when the schedule has no run left.
 */
export function nextSlot(schedule: Schedule, base: number, startTime: number | null, neverRun = false): number | null {
  if (startTime !== null && schedule.kind === 'interval') {
    if (neverRun) return startTime;
    const next = schedule.nextAfter(new Date(base));
    return next === null ? null : Math.max(startTime, next.getTime());
  }
  const from = startTime !== null && base < startTime ? startTime - 1 : base;
  return schedule.nextAfter(new Date(from))?.getTime() ?? null;
}
