// From stored bytes to TaskMeta, and from TaskMeta to a run's outcome. Celery's side:
// backends/base.py (`_get_result_meta` writes {status, result, traceback, children,
// date_done}; `prepare_exception` writes an exception as {exc_type, exc_message,
// exc_module} under the json serializer) and celery/states.py.
import { PyDict, type PyValue, dumpPyJson, parsePyJson } from '../broker/pyjson.js';
import { OUTCOME_LIMITS } from '../db/outcome-fold.js';
import type { OutcomeUpdate } from '../db/run-store.js';
import type { TaskMeta } from './result-backend.js';
import { PickleUnsupportedError, readPickle } from './result-backend-pickle.js';

/**
 * Decodes a serialized value by its first byte: a pickle (protocol 2+ starts with 0x80)
 * or JSON text (Celery's default result_serializer).
 * @returns undefined when neither reads (another serializer, or a pickled Python object)
 */
export function decodeStored(data: Uint8Array | string): PyValue | undefined {
  if (typeof data !== 'string' && data[0] === 0x80) {
    try {
      return readPickle(data);
    } catch (error) {
      if (error instanceof PickleUnsupportedError) return undefined;
      throw error;
    }
  }
  try {
    return parsePyJson(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** date_done as Celery writes it: ISO text, naive UTC (`datetime.utcnow().isoformat()`) or with an offset. */
export function parseDateDone(text: string | null | undefined): number | null {
  if (!text) return null;
  const match = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/.exec(text.trim());
  if (!match) return null;
  const fraction = (match[3] ?? '').padEnd(3, '0').slice(0, 3);
  const ms = Date.parse(`${match[1]}T${match[2]}.${fraction}${match[4] ?? 'Z'}`);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * Celery's task meta dict (the Redis backend's value: {status, result, traceback,
 * date_done, children, task_id[, worker …]}) as TaskMeta.
 * @returns undefined when it is not such a dict
 */
export function metaFromDict(taskId: string, value: PyValue | undefined): TaskMeta | undefined {
  if (!(value instanceof PyDict)) return undefined;
  const state = value.get('status');
  if (typeof state !== 'string') return undefined;
  const traceback = value.get('traceback');
  const dateDone = value.get('date_done');
  return {
    taskId,
    state,
    result: value.get('result') ?? null,
    traceback: typeof traceback === 'string' ? traceback : null,
    dateDone: typeof dateDone === 'string' ? parseDateDone(dateDone) : null,
    worker: textOf(value.get('worker')) ?? workerOfStarted(state, value.get('result')),
  };
}

/** STARTED's meta is {pid, hostname} (task_track_started): the worker. */
export function workerOfStarted(state: string, result: PyValue | undefined): string | null {
  return state === 'STARTED' && result instanceof PyDict ? (textOf(result.get('hostname')) ?? null) : null;
}

function textOf(value: PyValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** An exception as a result backend keeps it. */
export interface StoredException {
  /** The class's qualified name: `ValueError`, `Retry`, `TaskRevokedError`. */
  type: string;
  /** The module it is defined in (`builtins`, `celery.exceptions`), when stored. */
  module: string | null;
  /** str(exception), as Python prints it for one argument; several arguments as a JSON list. */
  message: string;
}

/**
 * The exception of a FAILURE/RETRY/REVOKED meta: from {exc_type, exc_message, exc_module},
 * else from the traceback's last line (`ValueError: boom`), else null.
 */
export function exceptionOf(meta: TaskMeta): StoredException | null {
  if (meta.result instanceof PyDict) {
    const type = meta.result.get('exc_type');
    if (typeof type === 'string') {
      const module = meta.result.get('exc_module');
      return {
        type,
        module: typeof module === 'string' ? module : null,
        message: messageOf(meta.result.get('exc_message')),
      };
    }
  }
  const last = meta.traceback?.trimEnd().split('\n').pop();
  const match = last === undefined ? null : /^([\w.]+)(?::\s?(.*))?$/.exec(last);
  if (match) return { type: match[1]!.split('.').pop()!, module: null, message: match[2] ?? '' };
  return null;
}

/** str(exc) from exc.args as Celery stores them (a list; older versions a string). */
function messageOf(args: PyValue | undefined): string {
  if (args === undefined || args === null) return '';
  if (!Array.isArray(args)) return typeof args === 'string' ? args : dumpPyJson(args);
  if (args.length === 0) return '';
  if (args.length === 1) return typeof args[0] === 'string' ? args[0] : dumpPyJson(args[0]!);
  return dumpPyJson(args);
}

/** Text cut to `limit` characters, ending with '…' when cut (the bounds of OUTCOME_LIMITS). */
export function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

/** The stored value as JSON text, cut to OUTCOME_LIMITS.result; undefined when unreadable. */
export function resultText(value: PyValue | undefined): string | undefined {
  return value === undefined ? undefined : truncate(dumpPyJson(value), OUTCOME_LIMITS.result);
}

/**
 * A run's outcome from its stored meta, observed at `now` (epoch ms):
 * - SUCCESS: finished at date_done, the value as JSON text (cut to 4 KiB);
 * - FAILURE, REVOKED: finished at date_done, with the exception's type, message and traceback;
 * - RETRY: the retry's exception and traceback (Celery's Retry: "Retry in 10s: …");
 * - STARTED (task_track_started), RECEIVED, and any custom state a task sets with
 *   update_state (e.g. PROGRESS): STARTED/RECEIVED, the worker where known.
 * - PENDING (nothing stored) and IGNORED: null, nothing to apply.
 */
export function outcomeFromMeta(meta: TaskMeta, now: number): OutcomeUpdate | null {
  const base = { taskId: meta.taskId, ...(meta.worker !== null && { worker: meta.worker }) };
  const finished = meta.dateDone ?? now;
  switch (meta.state) {
    case 'PENDING':
    case 'IGNORED':
      return null;
    case 'SUCCESS': {
      const result = resultText(meta.result);
      return { ...base, state: 'SUCCESS', at: finished, finishedAt: finished, ...(result !== undefined && { result }) };
    }
    case 'FAILURE':
    case 'REVOKED':
    case 'RETRY': {
      const exception = exceptionOf(meta);
      return {
        ...base,
        state: meta.state,
        at: finished,
        ...(meta.state !== 'RETRY' && { finishedAt: finished }),
        ...(exception !== null && {
          exceptionType: truncate(exception.type, OUTCOME_LIMITS.exceptionType),
          exceptionMessage: truncate(exception.message, OUTCOME_LIMITS.exceptionMessage),
        }),
        ...(meta.traceback !== null && { traceback: truncate(meta.traceback, OUTCOME_LIMITS.traceback) }),
      };
    }
    case 'RECEIVED':
      return { ...base, state: 'RECEIVED', at: now };
    default:
      return { ...base, state: 'STARTED', at: now };
  }
}
