// Builds the Celery protocol-2 message for one run, field for field what
// Celery 5's `app.send_task(name, args, kwargs, **options)` produces
// (celery/app/amqp.py `as_task_v2` + `send_task_message`, celery/app/base.py
// `send_task`). Transport-specific wrapping (Redis envelope, AMQP properties)
// is done by each broker.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

import { PyDict, PyJsonError, PyJsonText, PyNumber, type PyValue, toPyJson, toPyValue } from './pyjson.js';
import { DEFAULT_ROUTING, type DeclaredQueue, type Route, type RoutingSettings, routeTask } from './routing.js';
import { saferepr } from './saferepr.js';
import type { TaskMessage } from './types.js';

/** Celery's `argsrepr_maxsize` / `kwargsrepr_maxsize`. */
const REPR_MAXSIZE = 1024;

/** Header carrying the slot the run was scheduled for (ISO 8601, UTC, ms). */
export const SCHEDULED_AT_HEADER = 'dbbeat_scheduled_at';

/** Protocol-2 headers, in the order Celery writes them, then the row's own. */
export type Protocol2Headers = Record<string, unknown> & {
  lang: 'py';
  task: string;
  id: string;
  expires: string | null;
  argsrepr: string;
  kwargsrepr: string;
  origin: string;
};

/** Message properties common to every transport. */
export interface Protocol2Properties {
  correlation_id: string;
  reply_to: string;
  delivery_mode: 2;
  /** The row's priority, 0 when it has none (kombu's default_priority). */
  priority: number;
  /** Milliseconds until `expires`, as a decimal string (kombu); 0 when already past. */
  expiration?: string;
}

export interface Protocol2Message {
  /** The headers in Celery's order; the row's own values are Python values (pyjson.ts). */
  headers: Protocol2Headers;
  /** The headers as Python's json writes them (ints with every digit, `1.0`, `NaN`). */
  headersJson: string;
  /**
   * `[args, kwargs, embed]` as JSON, as it goes on the wire (UTF-8); the worker
   * refuses any other shape. args and kwargs are the row's text as stored.
   */
  bodyJson: string;
  properties: Protocol2Properties;
}

/** Celery's `anon_nodename()`: `gen<pid>@<hostname>`. */
export const ORIGIN = `gen${process.pid}@${hostname()}`;

/**
 * Celery sets reply_to to the sending app's `thread_oid`, a UUID stable per
 * process; only the RPC result backend reads it. One per process here too.
 */
export const REPLY_TO = randomUUID();

/**
 * argsrepr/kwargsrepr by the JSON text of the value. Periodic tasks send the same
 * args run after run (and most send `[]` and `{}`), and saferepr is the costliest
 * step of building a message, so each distinct value is rendered once. Bounded:
 * cleared when full.
 */
const reprCache = new Map<string, string>();
const REPR_CACHE_LIMIT = 10_000;

function cachedRepr(json: string, value: PyValue): string {
  let repr = reprCache.get(json);
  if (repr === undefined) {
    repr = saferepr(value, REPR_MAXSIZE);
    if (reprCache.size >= REPR_CACHE_LIMIT) reprCache.clear();
    reprCache.set(json, repr);
  }
  return repr;
}

const EMBED_JSON = '{"callbacks":null,"errbacks":null,"chain":null,"chord":null}';

/** What every run of a task version shares: argsrepr, kwargsrepr and the body, as {@link buildProtocol2} writes them. */
export interface Protocol2Shared {
  argsrepr: string;
  kwargsrepr: string;
  /** `[args, kwargs, embed]` as JSON. */
  bodyJson: string;
}

/**
 * argsrepr, kwargsrepr and the body of a message, without building its headers.
 * @throws TypeError when args is not a list or kwargs not a dict (as buildProtocol2)
 */
export function protocol2Shared(message: Pick<TaskMessage, 'args' | 'kwargs'>): Protocol2Shared {
  const args = PyJsonText.of(message.args, 'args');
  const kwargs = PyJsonText.of(message.kwargs, 'kwargs');
  if (!Array.isArray(args.value)) throw new TypeError('args: not a JSON list');
  if (!(kwargs.value instanceof PyDict)) throw new TypeError('kwargs: not a JSON object');
  return {
    // Celery's as_task_v2 does `args = args or ()`: empty args print as a tuple.
    argsrepr: args.value.length === 0 ? '()' : cachedRepr(args.text, args.value),
    kwargsrepr: cachedRepr(kwargs.text, kwargs.value),
    bodyJson: `[${args.text},${kwargs.text},${EMBED_JSON}]`,
  };
}

/**
 * Builds headers, body and properties for one run.
 * @param message the run to send
 * @param now the send time, used for `expiration` (ms left until `expires`)
 */
export function buildProtocol2(message: TaskMessage, now: Date): Protocol2Message {
  const args = PyJsonText.of(message.args, 'args');
  const kwargs = PyJsonText.of(message.kwargs, 'kwargs');
  const rowHeaders = PyJsonText.of(message.headers, 'headers').value;
  if (!Array.isArray(args.value)) throw new TypeError('args: not a JSON list');
  if (!(kwargs.value instanceof PyDict)) throw new TypeError('kwargs: not a JSON object');
  if (!(rowHeaders instanceof PyDict)) throw new TypeError('headers: not a JSON object');
  const headers: Protocol2Headers = {
    lang: 'py',
    task: message.task,
    id: message.id,
    shadow: null,
    eta: message.eta ? pythonIsoformat(message.eta) : null,
    expires: message.expires ? pythonIsoformat(message.expires) : null,
    group: null,
    group_index: null,
    retries: 0,
    timelimit: [null, null],
    root_id: message.id,
    parent_id: null,
    // Celery's as_task_v2 does `args = args or ()`: empty args print as a tuple.
    argsrepr: args.value.length === 0 ? '()' : cachedRepr(args.text, args.value),
    kwargsrepr: cachedRepr(kwargs.text, kwargs.value),
    origin: ORIGIN,
    ignore_result: false,
  };
  // Celery merges the caller's headers over its own (headers2.update(headers):
  // a key already there keeps its place, new keys follow in the row's order).
  for (const [key, value] of rowHeaders.entries) setHeader(headers, key, value);
  if (message.periodicTaskName != null) headers.periodic_task_name = message.periodicTaskName;
  // ...except the keys that identify the message, which the dedupe relies on.
  headers.lang = 'py';
  headers.id = message.id;
  headers.task = message.task;
  if (message.scheduledAt != null) headers[SCHEDULED_AT_HEADER] = message.scheduledAt.toISOString();
  // Without row headers every value is plain JSON; with them, write Python's JSON.
  const headersJson = rowHeaders.size === 0 ? JSON.stringify(headers) : pythonJsonOfHeaders(headers);

  const properties: Protocol2Properties = {
    correlation_id: message.id,
    reply_to: REPLY_TO,
    delivery_mode: 2,
    priority: message.priority ?? 0,
  };
  if (message.expires) {
    // celery/app/base.py send_task: a past expiry becomes 0, never negative.
    const millisecondsLeft = Math.max(0, message.expires.getTime() - now.getTime());
    properties.expiration = String(Math.trunc(millisecondsLeft));
  }
  // The same text JSON.stringify(body) gives, from the pieces already serialised.
  return { headers, headersJson, bodyJson: `[${args.text},${kwargs.text},${EMBED_JSON}]`, properties };
}

// Assigning `__proto__` would set the prototype instead of a key.
function setHeader(headers: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(headers, key, { value, enumerable: true, writable: true, configurable: true });
}

function pythonJsonOfHeaders(headers: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(headers))
    parts.push(`${JSON.stringify(key)}:${toPyJson(value, `headers.${key}`)}`);
  return `{${parts.join(',')}}`;
}

/**
 * The headers as amqplib table values that py-amqp decodes to the same Python
 * types: ints as signed 32-bit `I` (amqplib would pick `b`/`s`, which py-amqp
 * reads as unsigned byte and short string), larger positive ints as 64-bit
 * `l`, floats as double `d`.
 * @throws PyJsonError for what AMQP headers cannot carry to a Python worker:
 *   NaN and infinite floats (RabbitMQ closes the connection), ints below -2^31 (py-amqp's signed 64-bit tag `L` cannot be written by
 *   amqplib) or at/above 2^63, and dicts with a key `!` (amqplib's type marker)
 */
export function amqpHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const table: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(headers))
    setHeader(table, key, amqpValue(toPyValue(value, `headers.${key}`), `headers.${key}`));
  return table;
}

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;
const INT64_MAX = 2n ** 63n - 1n;

function amqpValue(value: PyValue, path: string): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (value instanceof PyNumber) {
    if (value.kind === 'float') {
      // RabbitMQ (Erlang) cannot decode a NaN or infinite double and drops the
      // whole connection; Celery's send breaks the same way. Fail this message only.
      if (!Number.isFinite(value.value))
        throw new PyJsonError(`${path}: ${value.repr} cannot travel in an AMQP header (RabbitMQ rejects it)`);
      return { '!': 'double', value: value.value };
    }
    const big = BigInt(value.repr);
    if (big >= INT32_MIN && big <= INT32_MAX) return { '!': 'int', value: Number(big) };
    if (big > INT32_MAX && big <= INT64_MAX) return { '!': 'long', value: big };
    throw new PyJsonError(`${path}: the int ${value.repr} cannot travel in an AMQP header to a Python worker`);
  }
  if (Array.isArray(value)) return value.map((item, index) => amqpValue(item, `${path}[${index}]`));
  const table: Record<string, unknown> = {};
  for (const [key, item] of value.entries) {
    if (key === '!')
      throw new PyJsonError(`${path}: a key "!" cannot be sent in AMQP headers (amqplib reads it as a type marker)`);
    setHeader(table, key, amqpValue(item, `${path}.${key}`));
  }
  return table;
}

/**
 * Python's `datetime.isoformat()` for an aware UTC datetime:
 * `2026-11-27T19:52:07.085427+00:00`, no fraction when it is zero.
 */
export function pythonIsoformat(date: Date): string {
  const iso = date.toISOString(); // 2026-11-27T19:52:07.085Z
  const seconds = iso.slice(0, 19);
  const milliseconds = date.getUTCMilliseconds();
  const fraction = milliseconds === 0 ? '' : `.${String(milliseconds * 1000).padStart(6, '0')}`;
  return `${seconds}${fraction}+00:00`;
}

/** Where a message goes: the exchange and routing key kombu publishes with, and what is declared first. */
export interface Destination {
  /** '' for the default exchange (routing key = queue). */
  exchange: string;
  routingKey: string;
  /** The type of `exchange` (direct, topic, fanout), for declaring it and matching bindings. */
  exchangeType: string;
  /** The queue Celery declares and binds to its own exchange before publishing; null when none. */
  declare: DeclaredQueue | null;
  /**
   * Where the message lands when nothing bound to a named exchange matches
   * (where Celery would lose it): the declared queue, else a queue named after
   * the routing key. On the default exchange, the routing key itself.
   */
  queue: string;
  /** The row's priority, else the route's. */
  priority: number | null;
}

/**
 * Where a message goes: Celery 5's routing (routing.ts: the row's
 * queue/exchange/routing_key, then task_routes, then the defaults). Where
 * Celery would publish with no routing key at all (a route that names an
 * exchange but neither queue nor routing key), the message goes to the
 * default queue instead of nowhere.
 */
export function destinationOf(message: TaskMessage, routing: RoutingSettings = DEFAULT_ROUTING): Destination {
  const route = routeTask(
    message.task,
    { queue: message.queue, exchange: message.exchange, routingKey: message.routingKey, priority: message.priority },
    routing,
  );
  if (route.routingKey === null) {
    const fallback = routeTask(message.task, { priority: route.priority }, { ...routing, routes: [] });
    return destinationOfRoute(fallback);
  }
  return destinationOfRoute(route);
}

function destinationOfRoute(route: Route): Destination {
  const routingKey = route.routingKey ?? '';
  return {
    exchange: route.exchange,
    routingKey,
    exchangeType: route.exchangeType,
    declare: route.declare,
    queue: route.exchange === '' ? routingKey : (route.declare?.name ?? routingKey),
    priority: route.priority,
  };
}
