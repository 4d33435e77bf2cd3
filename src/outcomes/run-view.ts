// Run history as `dbbeat runs` and /api/runs show it: the filters as typed (a state, a time or
// a duration back from now) checked once for both, and a run as JSON (times as ISO 8601 UTC).
import type { FailingTask, RunFilter, RunHistory, RunRecordView, RunState } from '../db/run-store.js';

/** Every state a run can be in, as dbbeat_run.state holds it. */
export const RUN_STATES: readonly RunState[] = [
  'SENT',
  'SKIPPED',
  'RECEIVED',
  'STARTED',
  'SUCCESS',
  'FAILURE',
  'RETRY',
  'REVOKED',
  'REJECTED',
  'LOST',
];

/** A filter value that cannot be read; `field` is the flag or query parameter. */
export class RunFilterError extends Error {
  override readonly name = 'RunFilterError';
  constructor(
    readonly field: string,
    readonly value: string,
    reason: string,
  ) {
    super(`${field}: ${JSON.stringify(value)} ${reason}`);
  }
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const ISO_TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * The instant `text` names, epoch ms: an ISO 8601 date or time (`2026-11-30`,
 * `2026-11-30T09:00`, `2026-11-30T09:00:00+01:00`; without an offset, UTC), or a duration
 * back from `now` (`90s`, `15m`, `2h`, `1d`, `1w`, `1h30m`).
 * @throws RunFilterError naming `field` and the value
 */
export function parseSince(text: string, now: number, field = 'since'): number {
  const trimmed = text.trim();
  if (/^(\d+(\.\d+)?[smhdw])+$/i.test(trimmed)) {
    let ms = 0;
    for (const [, amount, unit] of trimmed.matchAll(/(\d+(?:\.\d+)?)([smhdw])/gi))
      ms += Number(amount) * UNIT_MS[unit!.toLowerCase()]!;
    return now - ms;
  }
  const iso = ISO_TIME.exec(trimmed);
  const at = iso === null ? NaN : Date.parse(`${iso[1]}T${iso[2] ?? '00:00'}${iso[3] ?? 'Z'}`);
  if (Number.isNaN(at))
    throw new RunFilterError(
      field,
      text,
      'is not an ISO time (2026-11-30T09:00Z) or a duration (90s, 15m, 2h, 1d, 1w)',
    );
  return at;
}

/** A state as typed (any case). @throws RunFilterError naming `field` and the value */
export function parseState(text: string, field = 'state'): RunState {
  const state = text.trim().toUpperCase() as RunState;
  if (!RUN_STATES.includes(state)) throw new RunFilterError(field, text, `is not one of ${RUN_STATES.join(', ')}`);
  return state;
}

/** A whole number from `min` to `max`. @throws RunFilterError naming `field` and the value */
export function parseCount(text: string, field: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max)
    throw new RunFilterError(field, text, `is not a whole number from ${min} to ${max}`);
  return value;
}

/** The filters of `dbbeat runs` and /api/runs as typed (undefined: not given). */
export interface RunQueryText {
  /** A periodic task's name: its runs by its id when it exists (older names too), else by the name recorded. */
  name?: string;
  state?: string;
  since?: string;
  limit?: string;
  before?: string;
}

/**
 * The RunFilter the typed filters name (pure: checks every value; a `name` stays a name
 * until {@link withTaskId}). `prefix` goes before each field in errors ('--' for the CLI's
 * flags). `maxLimit` caps `limit` (default 500; 50 when not given).
 * @throws RunFilterError naming the field and value of the first bad one
 */
export function runFilterOf(
  text: RunQueryText,
  now: number,
  { prefix = '', maxLimit = 500 }: { prefix?: string; maxLimit?: number } = {},
): RunFilter {
  const filter: RunFilter = {
    limit: text.limit === undefined ? 50 : parseCount(text.limit, `${prefix}limit`, 1, maxLimit),
  };
  if (text.state !== undefined) filter.state = parseState(text.state, `${prefix}state`);
  if (text.since !== undefined) filter.since = parseSince(text.since, now, `${prefix}since`);
  if (text.before !== undefined) filter.before = parseCount(text.before, `${prefix}before`, 1, Number.MAX_SAFE_INTEGER);
  if (text.name !== undefined) filter.name = text.name;
  return filter;
}

/**
 * The filter with its task name turned into the task's id when a task has that name (its
 * runs under older names too, through the index); a name no task has stays a name (a
 * deleted task's runs).
 */
export async function withTaskId(store: Pick<RunHistory, 'periodicTaskIdOf'>, filter: RunFilter): Promise<RunFilter> {
  if (filter.name === undefined || filter.periodicTaskId !== undefined) return filter;
  const id = await store.periodicTaskIdOf(filter.name);
  if (id === undefined) return filter;
  const { name: _name, ...rest } = filter;
  return { ...rest, periodicTaskId: id };
}

/** A run as the API and `--json` answer it. */
export interface RunJson extends Omit<
  RunRecordView,
  'scheduledAt' | 'sentAt' | 'receivedAt' | 'startedAt' | 'finishedAt'
> {
  /** ISO 8601 UTC; null for a manual run. */
  scheduledAt: string | null;
  sentAt: string;
  receivedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function runJson(run: RunRecordView): RunJson {
  return {
    ...run,
    scheduledAt: iso(run.scheduledAt),
    sentAt: iso(run.sentAt)!,
    receivedAt: iso(run.receivedAt),
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
  };
}

/** A failing task as the API answers it (the last run's send time as ISO 8601 UTC). */
export function failingJson(task: FailingTask) {
  return { ...task, lastRun: { ...task.lastRun, sentAt: iso(task.lastRun.sentAt)! } };
}
