import type { Schedule } from '../schedules/types.js';
import { RunQueue } from './run-queue.js';
import type { ResolvedTask } from '../model/task-row.js';

/** The earliest instant a Date can hold. */
const EARLIEST_DATE = -8.64e15;

/** What the beat keeps in memory per scheduled task: little, so a million fit. */
export interface Entry {
  /** The checked task as last read: a run is sent from it without reading the row again. */
  task: ResolvedTask;
  schedule: Schedule;
  scheduleKey: string;
  /** Epoch ms of the slot the next run is for. */
  slot: number;
  startTime: number | null;
}

/**
 * When the first run after `base` is, given the task's start_time. Nothing is sent
 * before start_time: the first run is the first slot at or after it.
 */
export function nextSlot(schedule: Schedule, base: number, startTime: number | null): number | null {
  const from = startTime !== null && base < startTime ? startTime - 1 : base;
  return schedule.nextAfter(new Date(from))?.getTime() ?? null;
}

/** The enabled, valid tasks and their next runs. */
export class TaskTable {
  readonly queue = new RunQueue();
  private readonly entries = new Map<number, Entry>();

  get size(): number {
    return this.entries.size;
  }

  get(id: number): Entry | undefined {
    return this.entries.get(id);
  }

  /**
   * Adds or refreshes a task from its row. A task seen for the first time starts from
   * its last run (or, never run, from date_changed). A task whose schedule was edited
   * starts from now, so the edit takes effect without a spurious immediate run.
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
    const scheduleEdited = previous !== undefined && (previous.scheduleKey !== task.scheduleKey || previous.startTime !== startTime);
    if (scheduleEdited) base = Math.max(base, now);
    const slot = nextSlot(task.schedule, base, startTime);
    if (slot === null) {
      this.delete(row.id);
      return undefined;
    }
    const entry: Entry = { task, schedule: task.schedule, scheduleKey: task.scheduleKey, slot, startTime };
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

  delete(id: number): void {
    this.entries.delete(id);
    this.queue.delete(id);
  }

  clear(): void {
    this.entries.clear();
    this.queue.clear();
  }
}
