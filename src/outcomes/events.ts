// Celery task events as run outcomes. A worker started with -E (worker_send_task_events)
// publishes one event per step of a task (celery/worker/strategy.py task-received,
// celery/worker/request.py the others); this maps each to an OutcomeUpdate of dbbeat_run.
// Transport details (Redis PUB/SUB, RabbitMQ's celeryev exchange) are in events-redis.ts
// and events-amqp.ts; batching and leadership in events-consumer.ts.
import type { OutcomeUpdate } from '../db/run-store.js';

/**
 * A Celery event as the worker sends it (celery/events/event.py Event and
 * EventDispatcher.publish): `type`, `uuid` (the task id), `hostname`, `timestamp`
 * (time.time() on the worker: epoch seconds), `utcoffset`, `pid`, `clock`, and per type:
 * task-succeeded `result` (saferepr of the return value, at most resultrepr_maxsize) and
 * `runtime` (s); task-failed and task-retried `exception` (repr) and `traceback`;
 * task-revoked `terminated`, `signum`, `expired`; task-rejected `requeue`.
 */
export interface CeleryEvent {
  type: string;
  uuid?: string;
  hostname?: string;
  timestamp?: number;
  [field: string]: unknown;
}

/**
 * The events of one message body: Celery 4+ workers with an event loop buffer task
 * events and send them as a list (EventDispatcher buffer_group, EventReceiver._receive
 * takes both). Anything that is not an object with a string `type` is left out.
 */
export function eventsOfBody(body: unknown): CeleryEvent[] {
  const items = Array.isArray(body) ? (body as unknown[]) : [body];
  return items.filter(
    (item): item is CeleryEvent =>
      typeof item === 'object' && item !== null && typeof (item as { type?: unknown }).type === 'string',
  );
}

/**
 * The last exception of a Python traceback: the lines after its last frame (`  File …`
 * and the indented source and caret lines below it), `module.Type: message` (the message
 * possibly over several lines) or `Type` alone. The type without its module, as
 * type(exc).__name__ (what Celery's result backend stores as exc_type).
 */
export function exceptionOfTraceback(traceback: string): { type: string; message: string } | undefined {
  const lines = traceback.replace(/\s+$/, '').split('\n');
  let i = lines.length - 1;
  while (i >= 0 && !(lines[i] ?? '').startsWith('  File ')) i -= 1;
  if (i < 0) return undefined;
  i += 1;
  while (i < lines.length && (lines[i] ?? '').startsWith('    ')) i += 1;
  const match = /^([A-Za-z_][\w.]*)(?:: ?(.*))?$/.exec(lines[i] ?? '');
  if (!match) return undefined;
  return {
    type: (match[1] ?? '').split('.').at(-1) ?? '',
    message: [match[2] ?? '', ...lines.slice(i + 1)].join('\n'),
  };
}

/**
 * The exception type and message of a task-failed or task-retried event. `exception` is
 * Python's repr of the exception (`ValueError('boom')`): the type is what precedes the
 * first parenthesis. The message is str(exc) as the traceback's last exception line shows
 * it; without one that names the same type, the repr's single string argument, else its
 * arguments as written. Celery 5.2's task-failed sends the repr of billiard's wrapper,
 * `ExceptionWithTraceback()`: then type and message come from the traceback alone.
 */
export function parseException(
  exception: string | undefined,
  traceback: string | undefined,
): { type: string | undefined; message: string | undefined } {
  const fromTraceback = traceback === undefined ? undefined : exceptionOfTraceback(traceback);
  const open = exception?.indexOf('(') ?? -1;
  const type = exception !== undefined && open > 0 && exception.endsWith(')') ? exception.slice(0, open) : undefined;
  if (type === undefined || type === 'ExceptionWithTraceback') {
    return fromTraceback ?? { type: undefined, message: exception };
  }
  if (fromTraceback?.type === type) return fromTraceback;
  const args = (exception ?? '').slice(open + 1, -1);
  return { type, message: unquotePython(args) ?? args };
}

/** The text of a single Python string literal ('a', "b", with \\ escapes), or undefined. */
function unquotePython(literal: string): string | undefined {
  const match = /^(['"])((?:\\.|(?!\1)[^\\])*)\1,?$/s.exec(literal);
  if (!match) return undefined;
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' };
  return (match[2] ?? '').replace(/\\(x[0-9a-f]{2}|u[0-9a-f]{4}|.)/gi, (whole, code: string) => {
    if (/^[xu]/i.test(code) && code.length > 1) return String.fromCharCode(parseInt(code.slice(1), 16));
    return escapes[code] ?? whole;
  });
}

const text = (value: unknown): string | undefined =>
  value === undefined || value === null ? undefined : typeof value === 'string' ? value : JSON.stringify(value);

/**
 * The outcome a task event reports, or undefined for an event that is not one (worker
 * events, task-sent, a requeued rejection, an event without a task id or timestamp).
 * Times are the event's `timestamp` as sent: an epoch on the worker's clock. (Celery's
 * EventReceiver shifts it by the sender's `utcoffset` for display in local time; dbbeat
 * keeps the instant.)
 */
export function outcomeOfEvent(event: CeleryEvent): OutcomeUpdate | undefined {
  const { uuid, timestamp } = event;
  if (typeof uuid !== 'string' || uuid === '' || typeof timestamp !== 'number' || !Number.isFinite(timestamp))
    return undefined;
  const at = Math.round(timestamp * 1000);
  const base = {
    taskId: uuid,
    at,
    ...(typeof event.hostname === 'string' && { worker: event.hostname }),
  };
  switch (event.type) {
    case 'task-received':
      return { ...base, state: 'RECEIVED', receivedAt: at };
    case 'task-started':
      return { ...base, state: 'STARTED', startedAt: at };
    case 'task-succeeded': {
      const result = text(event.result);
      return {
        ...base,
        state: 'SUCCESS',
        finishedAt: at,
        ...(typeof event.runtime === 'number' && Number.isFinite(event.runtime) && { runtime: event.runtime }),
        ...(result !== undefined && { result }),
      };
    }
    case 'task-failed':
    case 'task-retried': {
      const traceback = text(event.traceback);
      const parsed = parseException(text(event.exception), traceback);
      return {
        ...base,
        state: event.type === 'task-failed' ? 'FAILURE' : 'RETRY',
        ...(event.type === 'task-failed' && { finishedAt: at }),
        ...(parsed.type !== undefined && { exceptionType: parsed.type }),
        ...(parsed.message !== undefined && { exceptionMessage: parsed.message }),
        ...(traceback !== undefined && { traceback }),
      };
    }
    case 'task-revoked':
      // As the result backend records it (Request._announce_revoked: mark_as_revoked(reason)).
      return {
        ...base,
        state: 'REVOKED',
        finishedAt: at,
        exceptionType: 'TaskRevokedError',
        exceptionMessage: event.terminated === true ? 'terminated' : event.expired === true ? 'expired' : 'revoked',
      };
    case 'task-rejected':
      // requeue: the message goes back to the queue and runs again; the run is still open.
      return event.requeue === true ? undefined : { ...base, state: 'REJECTED', finishedAt: at };
    default:
      return undefined;
  }
}
