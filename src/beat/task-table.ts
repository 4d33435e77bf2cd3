import { PyJsonText } from '../broker/pyjson.js';
import { RunQueue } from './run-queue.js';
import { SlotIndex } from './slot-index.js';
import {
  type Entry,
  firstBase,
  type ScheduleRef,
  type SendProfile,
  type SendSpec,
  type TaskVersion,
} from './task-version.js';

export {
  type Entry,
  firstBase,
  nextSlot,
  ScheduleRef,
  type SendProfile,
  type SendSpec,
  sendSpecOf,
  type TaskVersion,
} from './task-version.js';

/**
 * A task's SendSpec (and so its parsed args, and the broker's envelope built from them) is
 * kept after a run only when its next run is this close; a task that runs hourly or daily
 * builds it again at its next run, and a million tasks sent in one burst do not keep a
 * million specs.
 */
const KEEP_SPEC_MS = 60_000;

/** The run queue by task id, as the loop and the loader use it. */
export interface TaskQueue {
  readonly size: number;
  has(id: number): boolean;
  delete(id: number): void;
  /** The time of the earliest run, or undefined when nothing is scheduled. */
  peekTime(): number | undefined;
  /** Removes and returns up to `limit` task ids whose run is at or before `now`, earliest first. */
  popDue(now: number, limit: number): number[];
  /** Up to `limit` task ids whose run is after `after` and at or before `until`, in no order; nothing is removed. */
  dueBetween(after: number, until: number, limit: number): number[];
}

/**
 * The enabled, valid tasks and their next runs. Each task has a dense slot number, and
 * what the table keeps of it lives in flat arrays indexed by that slot (no object per
 * task): its name and args text, a profile shared with the tasks whose other send fields
 * are equal, its schedule (shared), start_time, expires and the slot of its next run.
 * A SendSpec is built when a run is sent (see KEEP_SPEC_MS).
 */
export class TaskTable {
  private readonly runs = new RunQueue();
  private readonly slotOf = new SlotIndex();
  private ids = new Float64Array(1024);
  private slots = new Float64Array(1024);
  private starts = new Float64Array(1024); // NaN: none
  private expiries = new Float64Array(1024); // NaN: none
  private readonly names: string[] = [];
  private readonly argTexts: string[] = [];
  private readonly profiles: SendProfile[] = [];
  private readonly schedules: ScheduleRef[] = [];
  private readonly specs: (SendSpec | undefined)[] = [];
  private readonly free: number[] = [];
  private used = 0;
  private readonly interned = new Map<string, SendProfile>();
  private lastProfile: SendProfile | undefined;

  /** The run queue by task id. */
  readonly queue: TaskQueue;

  constructor() {
    const runs = this.runs;
    const slotOf = this.slotOf;
    this.queue = {
      get size() {
        return runs.size;
      },
      has: (id) => {
        const slot = slotOf.get(id);
        return slot !== undefined && runs.has(slot);
      },
      delete: (id) => {
        const slot = slotOf.get(id);
        if (slot !== undefined) runs.delete(slot);
      },
      peekTime: () => runs.peekTime(),
      popDue: (now, limit) => runs.popDue(now, limit).map((slot) => this.ids[slot]!),
      dueBetween: (after, until, limit) => runs.dueBetween(after, until, limit).map((slot) => this.ids[slot]!),
    };
  }

  get size(): number {
    return this.slotOf.size;
  }

  /** The task's send fields and next slot; undefined when it is not in the table. */
  get(id: number): Entry | undefined {
    const slot = this.slotOf.get(id);
    return slot === undefined ? undefined : { spec: this.specAt(slot), slot: this.slots[slot]! };
  }

  /** Until the run queue is next read, adds tasks without ordering it (a full load). */
  deferOrdering(): void {
    this.runs.defer();
  }

  /**
   * Adds or refreshes a task from its checked row. A task seen for the first time starts
   * from its last run (or, never run, from date_changed; see nextSlot for start_time). A
   * task whose schedule was edited, or that is `resumed` (enabled again after the beat saw
   * it disabled), starts from now, so the edit takes effect without a spurious immediate
   * run. Returns false (and drops the task) when its schedule has no run left.
   */
  put(task: TaskVersion, now: number, resumed = false): boolean {
    const known = this.slotOf.get(task.id);
    const startTime = task.startTime;
    let { base, neverRun } = firstBase(task);
    let scheduleEdited = false;
    if (known !== undefined) {
      const previousStart = this.starts[known]!;
      scheduleEdited =
        this.schedules[known]!.key !== task.schedule.key ||
        (startTime === null ? !Number.isNaN(previousStart) : previousStart !== startTime);
    }
    if (scheduleEdited || resumed) {
      base = Math.max(base, now);
      neverRun = false;
    }
    let next = task.schedule.nextSlot(base, startTime, neverRun);
    if (next === null) {
      this.delete(task.id);
      return false;
    }
    // The row's last_run_at may lag what was sent (its record waits on a row lock, or is
    // still being written): never step back to a slot that already went out.
    if (known !== undefined && !scheduleEdited) next = Math.max(next, this.slots[known]!);
    const slot = known ?? this.allocate(task.id);
    this.names[slot] = task.name;
    this.argTexts[slot] = task.args;
    this.profiles[slot] = this.intern(task.profile);
    this.schedules[slot] = task.schedule;
    this.specs[slot] = undefined;
    this.starts[slot] = startTime ?? NaN;
    this.expiries[slot] = task.expires ?? NaN;
    this.slots[slot] = next;
    this.runs.set(slot, next);
    return true;
  }

  /** Moves a task to its run after `lastRun`; removes it when there is none. */
  advance(id: number, lastRun: number): void {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return;
    const start = this.starts[slot]!;
    const next = this.schedules[slot]!.nextSlot(lastRun, Number.isNaN(start) ? null : start, false);
    if (next === null) {
      this.delete(id);
      return;
    }
    if (next - lastRun > KEEP_SPEC_MS) this.specs[slot] = undefined;
    this.slots[slot] = next;
    this.runs.set(slot, next);
  }

  /** Puts a popped task back at its slot (its run was not sent). */
  requeue(id: number): void {
    const slot = this.slotOf.get(id);
    if (slot !== undefined) this.runs.set(slot, this.slots[slot]!);
  }

  /** Puts a popped task back, to be tried again at `at` (epoch ms) for the same slot. */
  postpone(id: number, at: number): void {
    const slot = this.slotOf.get(id);
    if (slot !== undefined) this.runs.set(slot, Math.max(this.slots[slot]!, at));
  }

  delete(id: number): void {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return;
    this.slotOf.delete(id);
    this.runs.delete(slot);
    // Let go of what the slot holds, for the collector; the slot is reused.
    this.names[slot] = '';
    this.argTexts[slot] = '';
    this.specs[slot] = undefined;
    this.free.push(slot);
  }

  clear(): void {
    this.slotOf.clear();
    this.runs.clear();
    this.names.length = 0;
    this.argTexts.length = 0;
    this.profiles.length = 0;
    this.schedules.length = 0;
    this.specs.length = 0;
    this.free.length = 0;
    this.used = 0;
    this.interned.clear();
    this.lastProfile = undefined;
  }

  private allocate(id: number): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.used++;
      if (slot === this.ids.length) this.grow();
    }
    this.ids[slot] = id;
    this.slotOf.set(id, slot);
    return slot;
  }

  private grow(): void {
    const size = this.ids.length * 2;
    const larger = (from: Float64Array) => {
      const to = new Float64Array(size);
      to.set(from);
      return to;
    };
    this.ids = larger(this.ids);
    this.slots = larger(this.slots);
    this.starts = larger(this.starts);
    this.expiries = larger(this.expiries);
  }

  /** The task's SendSpec, built on first use after a load or an edit (one per task version). */
  private specAt(slot: number): SendSpec {
    let spec = this.specs[slot];
    if (spec === undefined) {
      const profile = this.profiles[slot]!;
      const expires = this.expiries[slot]!;
      spec = {
        name: this.names[slot]!,
        task: profile.task,
        queue: profile.queue,
        exchange: profile.exchange,
        routingKey: profile.routingKey,
        priority: profile.priority,
        expires: Number.isNaN(expires) ? null : expires,
        expireSeconds: profile.expireSeconds,
        oneOff: profile.oneOff,
        // Checked to be a JSON list when the row was loaded. Parsed for each version: the
        // broker keeps its envelope by this object, so tasks never share one.
        args: PyJsonText.parse(this.argTexts[slot]!),
        kwargs: profile.kwargs,
        headers: profile.headers,
      };
      this.specs[slot] = spec;
    }
    return spec;
  }

  /**
   * One profile object for all tasks with equal send fields (a million tasks, a few
   * profiles). kwargs and headers compare by identity: the loader shares one parsed value
   * per text. Bounded: cleared when full.
   */
  private intern(profile: SendProfile): SendProfile {
    const last = this.lastProfile;
    if (last !== undefined && sameProfile(last, profile)) return last;
    const key = `${profile.task}\u0000${profile.queue}\u0000${profile.exchange}\u0000${profile.routingKey}\u0000${profile.priority}\u0000${profile.expireSeconds}\u0000${profile.oneOff}\u0000${profile.kwargs.text}\u0000${profile.headers.text}`;
    let known = this.interned.get(key);
    if (known === undefined || known.kwargs !== profile.kwargs || known.headers !== profile.headers) {
      if (this.interned.size >= 100_000) this.interned.clear();
      known = profile;
      this.interned.set(key, known);
    }
    this.lastProfile = known;
    return known;
  }
}

function sameProfile(a: SendProfile, b: SendProfile): boolean {
  return (
    a.task === b.task &&
    a.queue === b.queue &&
    a.exchange === b.exchange &&
    a.routingKey === b.routingKey &&
    a.priority === b.priority &&
    a.expireSeconds === b.expireSeconds &&
    a.oneOff === b.oneOff &&
    a.kwargs === b.kwargs &&
    a.headers === b.headers
  );
}
