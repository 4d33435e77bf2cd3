import { PyDict, PyJsonText } from '../broker/pyjson.js';
import { type ScheduleMaps, joinTask } from '../db/schedule-join.js';
import type {
  ClockedRow,
  CrontabRow,
  IntervalRow,
  KnownSchedule,
  OwnTaskRow,
  ScheduleRows,
  SolarRow,
  TaskPage,
  TaskRow,
} from '../db/store.js';
import { isCommonTaskRow, isSimpleJsonList } from '../model/common-row.js';
import {
  clockedFieldsOf,
  clockedKey,
  crontabFieldsOf,
  crontabKey,
  intervalFieldsOf,
  intervalKey,
  resolveTaskRow,
  solarFieldsOf,
  solarKey,
} from '../model/task-row.js';
import { checkScheduleRowCached, type ScheduleCache } from '../model/validate.js';
import type { Schedule } from '../schedules/types.js';
import type { CheckResult } from '../model/validate.js';
import { ScheduleRef, type TaskVersion } from './task-table.js';

/** A checked task, or the problem that keeps it out (as resolveTaskRow words it). */
export type RowResult = TaskVersion | string;

/** A schedule row read with a page, and its check (null: it failed). */
interface ReadSchedule<Row> {
  row: Row;
  ref: ScheduleRef | null;
}

/** Schedule rows read during a load, by id, per kind. */
interface ReadSchedules {
  crontab: Map<number, ReadSchedule<CrontabRow>>;
  interval: Map<number, ReadSchedule<IntervalRow>>;
  solar: Map<number, ReadSchedule<SolarRow>>;
  clocked: Map<number, ReadSchedule<ClockedRow>>;
}

const noSchedules = (): ReadSchedules => ({
  crontab: new Map(),
  interval: new Map(),
  solar: new Map(),
  clocked: new Map(),
});

/**
 * How many schedule rows a load keeps, so that later pages do not read them again (the
 * change feed, started before the load, replays any edit made meanwhile). Beyond it (a
 * clocked schedule per task, say), each page reads its own.
 */
const MAX_KEPT_SCHEDULES = 50_000;

/** Bounds of the caches (cleared when full): distinct schedules, and distinct kwargs/headers texts. */
const MAX_REFS = 100_000;
const MAX_SHARED_JSON = 10_000;
/** Longer kwargs/headers texts are parsed per task, not kept in the shared cache. */
const MAX_SHARED_TEXT = 64;

/**
 * Checks task rows with resolveTaskRow's rules and turns them into what the task table
 * keeps. A page is checked cheaply where a row is the common case (each distinct schedule
 * row of the page checked once, the task's columns by isCommonTaskRow, args by a pattern
 * or a parse); any other row goes through resolveTaskRow, whose message names every problem.
 * Tasks with equal schedules share one ScheduleRef, and equal kwargs/headers texts one value.
 */
export class RowResolver {
  private readonly scheduleCache: ScheduleCache = new Map();
  private readonly refs = new Map<string, ScheduleRef>();
  private readonly json = new Map<string, PyJsonText>();
  /** Schedule rows read by this load's pages (see MAX_KEPT_SCHEDULES). */
  private kept = noSchedules();
  private keptCount = 0;

  constructor(
    /** DJANGO_CELERY_BEAT_TZ_AWARE=False: the zone every crontab is read in (ResolvedConfig.crontabTimezone). */
    private readonly crontabTimezone: string | null = null,
  ) {}

  /** Forgets every cached check (before a full load). */
  clear(): void {
    this.scheduleCache.clear();
    this.refs.clear();
    this.json.clear();
    this.endLoad();
  }

  /** Whether a page need not read schedule row `id` of `kind` again (see loadEnabledPage's `known`). */
  readonly knows: KnownSchedule = (kind, id) => this.kept[kind].has(id);

  /** Lets go of the schedule rows the pages read. */
  endLoad(): void {
    this.kept = noSchedules();
    this.keptCount = 0;
  }

  /** Checks one joined row in full. */
  resolve(row: TaskRow): RowResult {
    const resolution = resolveTaskRow(row, {
      scheduleCache: this.scheduleCache,
      crontabTimezone: this.crontabTimezone,
    });
    if (!resolution.ok) return resolution.problem;
    const { task } = resolution;
    return this.version(
      row,
      task.args.text,
      this.shared(row.kwargs, task.kwargs),
      this.shared(row.headers, task.headers),
      this.refOf(task.schedule, task.scheduleKey),
    );
  }

  /**
   * Checks each task of a page, in order, and hands it with its result to `each`. The
   * page's schedule rows are checked once each (and kept for later pages, see `knows`).
   */
  resolvePage(page: TaskPage, each: (task: OwnTaskRow, result: RowResult) => void): void {
    const local = this.readSchedules(page.schedules);
    let maps: ScheduleMaps | undefined;
    for (const task of page.tasks) {
      const result = this.common(task, local);
      if (result !== undefined) {
        each(task, result);
        continue;
      }
      maps ??= rowMaps(this.kept, local);
      each(task, this.resolve(joinTask(task, maps)));
    }
  }

  /** The row's TaskVersion when it is the common case, else undefined (to be checked in full). */
  private common(task: OwnTaskRow, local: ReadSchedules | undefined): TaskVersion | undefined {
    const kept = this.kept;
    let read: ReadSchedule<unknown> | undefined;
    let kinds = 0;
    if (task.crontab_id !== null) {
      kinds++;
      read = find(kept.crontab, local?.crontab, task.crontab_id);
    }
    if (task.interval_id !== null) {
      kinds++;
      read = find(kept.interval, local?.interval, task.interval_id);
    }
    if (task.solar_id !== null) {
      kinds++;
      read = find(kept.solar, local?.solar, task.solar_id);
    }
    if (task.clocked_id !== null) {
      kinds++;
      read = find(kept.clocked, local?.clocked, task.clocked_id);
    }
    const ref = read?.ref;
    if (kinds !== 1 || !ref || (task.clocked_id !== null && task.one_off !== true)) return undefined;
    if (!isCommonTaskRow(task)) return undefined;
    const args = task.args;
    if (typeof args !== 'string' || !(isSimpleJsonList(args) || parsesAs(args, 'list'))) return undefined;
    const kwargs = this.sharedObject(task.kwargs);
    const headers = kwargs && this.sharedObject(task.headers);
    if (!kwargs || !headers) return undefined;
    return this.version(task, args, kwargs, headers, ref);
  }

  private version(
    row: OwnTaskRow,
    args: string,
    kwargs: PyJsonText,
    headers: PyJsonText,
    schedule: ScheduleRef,
  ): TaskVersion {
    return {
      id: row.id,
      name: row.name,
      args,
      profile: {
        task: row.task,
        queue: row.queue,
        exchange: row.exchange,
        routingKey: row.routing_key,
        priority: row.priority,
        expireSeconds: row.expire_seconds,
        oneOff: row.one_off,
        kwargs,
        headers,
      },
      expires: row.expires,
      startTime: row.start_time,
      lastRunAt: row.last_run_at,
      dateChanged: row.date_changed,
      clocked: row.clocked_id !== null,
      schedule,
    };
  }

  /**
   * Checks the schedule rows a page read (as checkPeriodicTask checks them, through the
   * same cache) and keeps them for later pages; over the bound, they are returned for this
   * page only.
   */
  private readSchedules(rows: ScheduleRows): ReadSchedules | undefined {
    const { crontab, interval, solar, clocked } = rows;
    const count = crontab.length + interval.length + solar.length + clocked.length;
    if (count === 0) return undefined;
    const keep = this.keptCount + count <= MAX_KEPT_SCHEDULES;
    const into = keep ? this.kept : noSchedules();
    if (keep) this.keptCount += count;
    const zone = this.crontabTimezone;
    const cache = this.scheduleCache;
    for (const c of crontab) {
      const fields = crontabFieldsOf(
        {
          minute: c.minute,
          hour: c.hour,
          dayOfWeek: c.day_of_week,
          dayOfMonth: c.day_of_month,
          monthOfYear: c.month_of_year,
          timezone: c.timezone,
        },
        zone,
      );
      const key = crontabKey(c.minute, c.hour, c.day_of_month, c.month_of_year, c.day_of_week, c.timezone);
      const check = checkScheduleRowCached(cache, 'crontab', c.id, fields);
      into.crontab.set(c.id, { row: c, ref: this.checked(check, `${key}|||`) });
    }
    for (const i of interval) {
      const check = checkScheduleRowCached(cache, 'interval', i.id, intervalFieldsOf(i.every, i.period));
      into.interval.set(i.id, { row: i, ref: this.checked(check, `|${intervalKey(i.every, i.period)}||`) });
    }
    for (const s of solar) {
      const check = checkScheduleRowCached(cache, 'solar', s.id, solarFieldsOf(s.event, s.latitude, s.longitude));
      into.solar.set(s.id, { row: s, ref: this.checked(check, `||${solarKey(s.event, s.latitude, s.longitude)}|`) });
    }
    for (const k of clocked) {
      const check = checkScheduleRowCached(cache, 'clocked', k.id, clockedFieldsOf(k.clocked_time));
      into.clocked.set(k.id, { row: k, ref: this.checked(check, `|||${clockedKey(k.clocked_time)}`) });
    }
    return keep ? undefined : into;
  }

  private checked(check: CheckResult<Schedule>, key: string): ScheduleRef | null {
    return check.ok ? this.refOf(check.value, key) : null;
  }

  /** One ScheduleRef per schedule content (the key fixes the schedule: same key, same runs). */
  private refOf(schedule: Schedule, key: string): ScheduleRef {
    let ref = this.refs.get(key);
    if (ref === undefined) {
      if (this.refs.size >= MAX_REFS) this.refs.clear();
      ref = new ScheduleRef(schedule, key);
      this.refs.set(key, ref);
    }
    return ref;
  }

  /** The parsed JSON object `text` holds (one value per distinct short text), or null when it is not one. */
  private sharedObject(text: unknown): PyJsonText | null {
    if (typeof text !== 'string') return null;
    const known = this.json.get(text);
    if (known !== undefined) return known;
    let value: PyJsonText | null = null;
    try {
      const parsed = PyJsonText.parse(text);
      if (parsed.value instanceof PyDict) value = parsed;
    } catch {
      // not JSON: checked in full, which says why
    }
    if (text.length <= MAX_SHARED_TEXT && value !== null) {
      if (this.json.size >= MAX_SHARED_JSON) this.json.clear();
      this.json.set(text, value);
    }
    return value;
  }

  /** The value kept for this kwargs/headers text: the shared one when known, else `value`. */
  private shared(text: unknown, value: PyJsonText): PyJsonText {
    if (typeof text !== 'string' || text.length > MAX_SHARED_TEXT) return value;
    const known = this.json.get(text);
    if (known) return known;
    if (this.json.size >= MAX_SHARED_JSON) this.json.clear();
    this.json.set(text, value);
    return value;
  }
}

function find<Row>(
  kept: Map<number, ReadSchedule<Row>>,
  local: Map<number, ReadSchedule<Row>> | undefined,
  id: number,
): ReadSchedule<Row> | undefined {
  return local?.get(id) ?? kept.get(id);
}

/** The rows of `kept` and `local`, as joinTask looks them up. */
function rowMaps(kept: ReadSchedules, local: ReadSchedules | undefined): ScheduleMaps {
  const rows = <Row>(one: Map<number, ReadSchedule<Row>>, other: Map<number, ReadSchedule<Row>> | undefined) => ({
    get: (id: number) => find(one, other, id)?.row,
  });
  return {
    crontab: rows(kept.crontab, local?.crontab),
    interval: rows(kept.interval, local?.interval),
    solar: rows(kept.solar, local?.solar),
    clocked: rows(kept.clocked, local?.clocked),
  };
}

/** Whether Python's json.loads reads `text` as a list. */
function parsesAs(text: string, shape: 'list'): boolean {
  try {
    return shape === 'list' && Array.isArray(PyJsonText.parse(text).value);
  } catch {
    return false;
  }
}
