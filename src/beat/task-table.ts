import type { Schedule } from '../schedules/types.js';
import { RunQueue } from './run-queue.js';
import type { ResolvedTask } from '../model/task-row.js';

/** The earliest instant a Date can hold. */
const EARLIEST_DATE = -8.64e15;

/**
 * What sending a run needs of its task, kept from the checked row so that a run is sent
 * without reading the row again (the change log names the rows to read again). Only
 * these fields: the row itself, with its schedule columns, would double the memory of a
 * million tasks.
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

/** What the beat keeps in memory per scheduled task: little, so a million fit. */
export interface Entry {
  spec: SendSpec;
  schedule: Schedule;
  scheduleKey: string;
  /** Epoch ms of the slot the next run is for. */
  slot: number;
  startTime: number | null;
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

/** The enabled, valid tasks and their next runs. */
export class TaskTable {
  readonly queue = new RunQueue();
  private readonly entries = new Map<number, Entry>();
  /**
   * One copy of each string many tasks share (task name, queue, schedule key): the driver
   * makes a new string per row, a million copies of the same few. Bounded: cleared when full.
   */
  private readonly strings = new Map<string, string>();
  private readonly values = new Map<string, unknown>();

  get size(): number {
    return this.entries.size;
  }

  get(id: number): Entry | undefined {
    return this.entries.get(id);
  }

  /**
   * Adds or refreshes a task from its row. A task seen for the first time starts from
   * its last run (or, never run, from date_changed; see nextSlot for start_time). A task
   * whose schedule was edited starts from now, so the edit takes effect without a
   * spurious immediate run.
   * Returns the entry, or undefined when the schedule has no run left.
   */
  upsert(task: ResolvedTask, now: number): Entry | undefined {
    const { row } = task;
    const previous = this.entries.get(row.id);
    const startTime = row.start_time;
    let base = row.last_run_at ?? row.date_changed;
    if (row.clocked_id !== null && row.last_run_at === null) {
      base = EARLIEST_DATE; // a clocked task runs at its time, even one saved after it
    }
    const scheduleEdited =
      previous !== undefined && (previous.scheduleKey !== task.scheduleKey || previous.startTime !== startTime);
    if (scheduleEdited) base = Math.max(base, now);
    let slot = nextSlot(task.schedule, base, startTime, row.last_run_at === null && !scheduleEdited);
    if (slot === null) {
      this.delete(row.id);
      return undefined;
    }
    // The row's last_run_at may lag what was sent (its record waits on a row lock, or is
    // still being written): never step back to a slot that already went out.
    if (previous !== undefined && !scheduleEdited) slot = Math.max(slot, previous.slot);
    const entry: Entry = {
      spec: this.specOf(task),
      schedule: task.schedule,
      scheduleKey: this.intern(task.scheduleKey),
      slot,
      startTime,
    };
    this.entries.set(row.id, entry);
    this.queue.set(row.id, slot);
    return entry;
  }

  /** Moves a task to its run after `lastRun`; removes it when there is none. */
  advance(id: number, lastRun: number): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    const slot = nextSlot(entry.schedule, lastRun, entry.startTime);
    if (slot === null) {
      this.delete(id);
      return;
    }
    entry.slot = slot;
    this.queue.set(id, slot);
  }

  /** Puts a popped task back at its slot (its run was not sent). */
  requeue(id: number): void {
    const entry = this.entries.get(id);
    if (entry) this.queue.set(id, entry.slot);
  }

  /** Puts a popped task back, to be tried again at `at` (epoch ms) for the same slot. */
  postpone(id: number, at: number): void {
    const entry = this.entries.get(id);
    if (entry) this.queue.set(id, Math.max(entry.slot, at));
  }

  delete(id: number): void {
    this.entries.delete(id);
    this.queue.delete(id);
  }

  clear(): void {
    this.entries.clear();
    this.queue.clear();
    this.strings.clear();
    this.values.clear();
  }

  private intern<T extends string | null>(value: T): T {
    if (value === null) return value;
    const known = this.strings.get(value);
    if (known !== undefined) return known as T;
    if (this.strings.size >= 100_000) this.strings.clear();
    this.strings.set(value, value);
    return value;
  }

  private specOf(task: ResolvedTask): SendSpec {
    const spec = sendSpecOf(task);
    spec.task = this.intern(spec.task);
    spec.queue = this.intern(spec.queue);
    spec.exchange = this.intern(spec.exchange);
    spec.routingKey = this.intern(spec.routingKey);
    // Most tasks share a few kwargs and headers texts ('{}'): one parsed value each
    // (never mutated: messages copy from them).
    spec.kwargs = this.shared(`k${task.row.kwargs}`, spec.kwargs);
    spec.headers = this.shared(`h${task.row.headers}`, spec.headers);
    return spec;
  }

  private shared<T>(text: string, value: T): T {
    if (text.length > 64) return value;
    const known = this.values.get(text);
    if (known !== undefined) return known as T;
    if (this.values.size >= 10_000) this.values.clear();
    this.values.set(text, value);
    return value;
  }
}
