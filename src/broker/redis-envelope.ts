// The JSON text kombu's Redis transport LPUSHes for one message, built once per task
// version and filled in per run. A periodic task sends the same task name, args, kwargs
// and route run after run: only the id, the times and kombu's delivery tag change. The
// body (base64 of `[args, kwargs, embed]`), argsrepr/kwargsrepr and every other header
// are written once per task version; a run copies them around its own id and times.
import { randomUUID } from 'node:crypto';

import type { Destination } from './message.js';
import { buildProtocol2, pythonIsoformat } from './message.js';
import { PyDict, PyJsonText } from './pyjson.js';
import type { TaskMessage } from './types.js';

/**
 * The fixed text of one task version's envelope, around the per-run values:
 * `head` id `afterId` expires `afterExpires` id `afterRootId` [scheduled `afterScheduled`]
 * then the properties: `propsHead` id `afterCorrelation` [expiration `afterExpiration`] tag `tail`.
 */
interface Template {
  /** What it was built from: a message matches when each is the same (===). */
  task: string;
  kwargs: TaskMessage['kwargs'];
  headers: TaskMessage['headers'];
  periodicTaskName: string | null | undefined;
  destination: Destination;
  hasExpires: boolean;
  hasScheduled: boolean;
  /** Text pieces, in order (see above). */
  head: string;
  afterId: string;
  afterExpires: string;
  afterRootId: string;
  afterScheduled: string;
  afterCorrelation: string;
  afterExpiration: string;
  tail: string;
}

/**
 * Templates by the message's args object: a task version keeps one parsed args value
 * (SendSpec), so a run finds its template by identity, and a new version (a new args
 * object) gets a new one. Weak: a task edited or deleted takes its template with it.
 */
const templates = new WeakMap<object, Template>();

/**
 * The JSON text kombu's Redis transport LPUSHes for one message: the protocol-2 message
 * with its body in base64, and kombu's delivery properties. Byte for byte the text
 * {@link buildRedisEnvelope} writes (test/broker/redis-envelope.test.ts compares them);
 * a message with headers of its own or an eta is built in full every time.
 */
export function redisEnvelope(message: TaskMessage, destination: Destination, now: Date): string {
  const args = message.args;
  if (!(args instanceof PyJsonText) || !templated(message)) return buildRedisEnvelope(message, destination, now);
  let template = templates.get(args);
  if (template === undefined || !matches(template, message, destination)) {
    template = templateOf(message, destination, now);
    templates.set(args, template);
  }
  const id = JSON.stringify(message.id);
  const expires = message.expires ?? null;
  let text = `${template.head}${id}${template.afterId}${expires === null ? 'null' : `"${pythonIsoformat(expires)}"`}${template.afterExpires}${id}${template.afterRootId}`;
  if (template.hasScheduled) text += `${message.scheduledAt!.toISOString()}${template.afterScheduled}`;
  text += `${id}${template.afterCorrelation}`;
  if (expires !== null) {
    // celery/app/base.py send_task: a past expiry becomes 0, never negative.
    text += `${Math.trunc(Math.max(0, expires.getTime() - now.getTime()))}${template.afterExpiration}`;
  }
  return `${text}${randomUUID()}${template.tail}`;
}

/** Only messages whose headers are Celery's own (no row headers, no eta) share a template. */
function templated(message: TaskMessage): boolean {
  if (message.eta != null) return false;
  const headers = message.headers;
  return headers instanceof PyJsonText && headers.value instanceof PyDict && headers.value.size === 0;
}

function matches(template: Template, message: TaskMessage, destination: Destination): boolean {
  const known = template.destination;
  return (
    template.task === message.task &&
    template.kwargs === message.kwargs &&
    template.headers === message.headers &&
    template.periodicTaskName === message.periodicTaskName &&
    template.hasExpires === (message.expires != null) &&
    template.hasScheduled === (message.scheduledAt != null) &&
    (known === destination ||
      (known.exchange === destination.exchange &&
        known.routingKey === destination.routingKey &&
        known.priority === destination.priority))
  );
}

/**
 * The fixed pieces of a task version's envelope, in the order buildRedisEnvelope writes
 * them (Celery's header order, then kombu's properties); argsrepr, kwargsrepr and the
 * body come from buildProtocol2 itself.
 */
function templateOf(message: TaskMessage, destination: Destination, now: Date): Template {
  const hasExpires = message.expires != null;
  const hasScheduled = message.scheduledAt != null;
  const priority = destination.priority;
  const protocol = buildProtocol2(
    { ...message, id: 'x', priority, expires: null, scheduledAt: null, periodicTaskName: null },
    now,
  );
  const h = protocol.headers;
  const json = JSON.stringify;
  const body = Buffer.from(protocol.bodyJson, 'utf8').toString('base64');
  const head = `{"body":"${body}","content-encoding":"utf-8","content-type":"application/json","headers":{"lang":"py","task":${json(message.task)},"id":`;
  const afterId = `,"shadow":null,"eta":null,"expires":`;
  const afterExpires = `,"group":null,"group_index":null,"retries":0,"timelimit":[null,null],"root_id":`;
  let afterRootId = `,"parent_id":null,"argsrepr":${json(h.argsrepr)},"kwargsrepr":${json(h.kwargsrepr)},"origin":${json(h.origin)},"ignore_result":false`;
  if (message.periodicTaskName != null) afterRootId += `,"periodic_task_name":${json(message.periodicTaskName)}`;
  const propsHead = `},"properties":{"correlation_id":`;
  const props = `,"reply_to":${json(protocol.properties.reply_to)},"delivery_mode":2,"priority":${json(priority ?? 0)}`;
  const deliveryInfo = `"delivery_info":${json({ exchange: destination.exchange, routing_key: destination.routingKey })},"body_encoding":"base64","delivery_tag":`;
  let afterScheduled = '';
  if (hasScheduled) {
    afterRootId += `,"dbbeat_scheduled_at":"`;
    afterScheduled = `"${propsHead}`;
  } else {
    afterRootId += propsHead;
  }
  return {
    task: message.task,
    kwargs: message.kwargs,
    headers: message.headers,
    periodicTaskName: message.periodicTaskName,
    destination,
    hasExpires,
    hasScheduled,
    head,
    afterId,
    afterExpires,
    afterRootId,
    afterScheduled,
    afterCorrelation: hasExpires ? `${props},"expiration":"` : `${props},${deliveryInfo}"`,
    afterExpiration: `",${deliveryInfo}"`,
    tail: '"}}',
  };
}

/**
 * The envelope built in full: buildProtocol2's headers (Python's JSON where the row has
 * headers of its own), its body in base64, and kombu's delivery properties.
 */
export function buildRedisEnvelope(message: TaskMessage, destination: Destination, now: Date): string {
  const protocol = buildProtocol2(
    message.priority === destination.priority ? message : { ...message, priority: destination.priority },
    now,
  );
  const properties = JSON.stringify({
    ...protocol.properties,
    delivery_info: { exchange: destination.exchange, routing_key: destination.routingKey },
    body_encoding: 'base64',
    delivery_tag: randomUUID(),
  });
  const body = Buffer.from(protocol.bodyJson, 'utf8').toString('base64');
  // Written by hand so the headers keep Python's JSON (big ints, 1.0, NaN).
  return `{"body":"${body}","content-encoding":"utf-8","content-type":"application/json","headers":${protocol.headersJson},"properties":${properties}}`;
}
