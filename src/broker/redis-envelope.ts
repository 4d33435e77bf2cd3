// The JSON text kombu's Redis transport LPUSHes for one message, written as UTF-8 bytes,
// built once per task version and filled in per run. A periodic task sends the same task
// name, args, kwargs and route run after run: only the id, the times and kombu's delivery
// tag change. The body (base64 of `[args, kwargs, embed]`), argsrepr/kwargsrepr and every
// other header are encoded once per task version; a run writes those texts around its own
// id and times into one buffer. Bytes rather than a string: ioredis copies a Buffer
// argument once, where a string would be concatenated into the command and converted to
// UTF-8 again.
import { randomUUID } from 'node:crypto';

import { EnvelopeArena } from './envelope-arena.js';
import type { Destination } from './message.js';
import { buildProtocol2, ORIGIN, protocol2Shared, pythonIsoformat, REPLY_TO } from './message.js';
import { PyDict, PyJsonText } from './pyjson.js';
import type { TaskMessage } from './types.js';

/**
 * The fixed texts of one task version's envelope, around the per-run values:
 * `head` id `afterId` expires `afterExpires` id `afterRootId` [scheduled `afterScheduled`]
 * id `afterCorrelation` [expiration `afterExpiration`] delivery tag `tail`. The id and the
 * delivery tag are written between the quotes the pieces end and start with.
 *
 * Strings, not Buffers: a template lives as long as its task version, and a hundred
 * thousand of them as Buffers were ~70 MB of memory outside V8's heap, built within
 * seconds when a steady load's tasks came round for their second run. Past 64 MB of such
 * growth V8 marks the heap in steps taken by every later Buffer allocation, and then
 * collects it synchronously: 50–100 ms stalls of the sending (bench/ANALYSIS.md, session 10).
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
  /** The pieces, in order (see above). */
  head: string;
  afterId: string;
  afterExpires: string;
  afterRootId: string;
  afterScheduled: string;
  afterCorrelation: string;
  afterExpiration: string;
  tail: string;
  /** How the pieces are written: 'latin1' (one byte a character, a plain copy) when all are ASCII. */
  encoding: 'latin1' | 'utf8';
  /** The bytes of the pieces written for every run (afterExpiration only with an expiry). */
  fixedBytes: number;
}

/**
 * Templates by the message's args object: a task version keeps one parsed args value
 * (SendSpec), so a run finds its template by identity, and a new version (a new args
 * object) gets a new one. Weak: a task edited or deleted takes its template with it.
 * `null`: sent once, no template yet. A template is built on a task version's second
 * send, so a one-shot burst of a million tasks does not keep a million templates.
 */
const templates = new WeakMap<object, Template | null>();

/** A task id JSON writes as it is (printable ASCII, no quote or backslash): one byte per character. */
const PLAIN_ID = /^[\x20\x21\x23-\x5b\x5d-\x7f]*$/;

/**
 * Writes the envelope kombu's Redis transport LPUSHes for one message into `arena`, as
 * UTF-8: the protocol-2 message with its body in base64, and kombu's delivery properties.
 * Byte for byte the text {@link buildRedisEnvelope} writes (test/broker/redis-envelope.test.ts
 * compares them). From a task version's second send on, its template's texts are written
 * around the run's id and times; a first send, a message with headers of its own,
 * an eta, or an id JSON would escape is built in full.
 * @returns the envelope's length in bytes, kept in `arena` (see {@link EnvelopeArena.cut})
 */
export function writeRedisEnvelope(
  message: TaskMessage,
  destination: Destination,
  now: Date,
  arena: EnvelopeArena,
): number {
  const args = message.args;
  if (args instanceof PyJsonText && templated(message)) {
    let template = templates.get(args);
    if (template === undefined) {
      templates.set(args, null);
      if (PLAIN_ID.test(message.id)) return writeText(joinPieces(piecesOf(message, destination), message, now), arena);
    } else {
      if (template === null || !matches(template, message, destination)) {
        template = templateOf(message, destination);
        templates.set(args, template);
      }
      if (PLAIN_ID.test(message.id)) return fill(template, message, now, arena);
    }
  }
  return writeText(buildRedisEnvelope(message, destination, now), arena);
}

/**
 * Builds the template of `message`'s task version now, where {@link writeRedisEnvelope}
 * would build it on the version's second send; a message that is built in full (its own
 * headers, an eta, an id JSON would escape) has none. Never throws.
 */
export function prepareRedisEnvelope(message: TaskMessage, destination: Destination): void {
  const args = message.args;
  if (!(args instanceof PyJsonText) || !templated(message) || !PLAIN_ID.test(message.id)) return;
  const template = templates.get(args);
  if (template != null && matches(template, message, destination)) return;
  try {
    templates.set(args, templateOf(message, destination));
  } catch {
    // Not encodable: the publish reports it, for this message alone.
  }
}

/**
 * The envelope as text ({@link writeRedisEnvelope} decoded): the same bytes, for
 * callers that want a string (the bench's floor).
 */
export function redisEnvelope(message: TaskMessage, destination: Destination, now: Date): string {
  writeRedisEnvelope(message, destination, now, textArena);
  return textArena.cut().toString('utf8');
}

const textArena = new EnvelopeArena(64 * 1024);

/** Writes `text` as UTF-8 into `arena`; returns its length in bytes. */
function writeText(text: string, arena: EnvelopeArena): number {
  // UTF-8 takes at most 3 bytes per UTF-16 unit; count exactly only when that bound does not fit.
  const bound = text.length * 3;
  const slab = arena.room(bound <= arena.left ? bound : Buffer.byteLength(text, 'utf8'));
  const bytes = slab.write(text, arena.offset, 'utf8');
  arena.commit(bytes);
  return bytes;
}

/** A run's envelope from its task version's template: the fixed texts and the run's own values, written in turn. */
function fill(template: Template, message: TaskMessage, now: Date, arena: EnvelopeArena): number {
  const id = message.id;
  const expires = message.expires ?? null;
  const expiresText = expires === null ? 'null' : `"${pythonIsoformat(expires)}"`;
  const scheduled = template.hasScheduled ? message.scheduledAt!.toISOString() : '';
  // celery/app/base.py send_task: a past expiry becomes 0, never negative.
  const expiration = expires === null ? '' : String(Math.trunc(Math.max(0, expires.getTime() - now.getTime())));
  const tag = randomUUID();
  // Every per-run value is ASCII: one byte per character.
  const size =
    template.fixedBytes + 3 * id.length + expiresText.length + scheduled.length + expiration.length + tag.length;
  const out = arena.room(size);
  const start = arena.offset;
  const encoding = template.encoding;
  let at = start;
  at += out.write(template.head, at, encoding);
  const idAt = at;
  at += out.write(id, at, 'latin1');
  at += out.write(template.afterId, at, encoding);
  at += out.write(expiresText, at, 'latin1');
  at += out.write(template.afterExpires, at, encoding);
  out.copyWithin(at, idAt, idAt + id.length);
  at += id.length;
  at += out.write(template.afterRootId, at, encoding);
  if (template.hasScheduled) {
    at += out.write(scheduled, at, 'latin1');
    at += out.write(template.afterScheduled, at, encoding);
  }
  out.copyWithin(at, idAt, idAt + id.length);
  at += id.length;
  at += out.write(template.afterCorrelation, at, encoding);
  if (expires !== null) {
    at += out.write(expiration, at, 'latin1');
    at += out.write(template.afterExpiration, at, encoding);
  }
  at += out.write(tag, at, 'latin1');
  at += out.write(template.tail, at, encoding);
  arena.commit(at - start);
  return at - start;
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

/** The fixed texts of a task version's envelope, in {@link Template}'s order (afterScheduled '' without a scheduled time). */
type Pieces = [string, string, string, string, string, string, string, string];

/**
 * The fixed texts of a task version's envelope, in the order buildRedisEnvelope writes
 * them (Celery's header order, then kombu's properties).
 * @throws TypeError when args is not a list or kwargs not a dict
 */
function piecesOf(message: TaskMessage, destination: Destination): Pieces {
  const hasExpires = message.expires != null;
  const shared = protocol2Shared(message);
  const json = JSON.stringify;
  const body = Buffer.from(shared.bodyJson, 'utf8').toString('base64');
  const head = `{"body":"${body}","content-encoding":"utf-8","content-type":"application/json","headers":{"lang":"py","task":${json(message.task)},"id":"`;
  const afterId = `","shadow":null,"eta":null,"expires":`;
  const afterExpires = `,"group":null,"group_index":null,"retries":0,"timelimit":[null,null],"root_id":"`;
  let afterRootId = `","parent_id":null,"argsrepr":${json(shared.argsrepr)},"kwargsrepr":${json(shared.kwargsrepr)},"origin":${json(ORIGIN)},"ignore_result":false`;
  if (message.periodicTaskName != null) afterRootId += `,"periodic_task_name":${json(message.periodicTaskName)}`;
  const propsHead = `},"properties":{"correlation_id":"`;
  const props = `","reply_to":${json(REPLY_TO)},"delivery_mode":2,"priority":${json(destination.priority ?? 0)}`;
  const deliveryInfo = `"delivery_info":${json({ exchange: destination.exchange, routing_key: destination.routingKey })},"body_encoding":"base64","delivery_tag":"`;
  let afterScheduled = '';
  if (message.scheduledAt != null) {
    afterRootId += `,"dbbeat_scheduled_at":"`;
    afterScheduled = `"${propsHead}`;
  } else {
    afterRootId += propsHead;
  }
  return [
    head,
    afterId,
    afterExpires,
    afterRootId,
    afterScheduled,
    hasExpires ? `${props},"expiration":"` : `${props},${deliveryInfo}`,
    `",${deliveryInfo}`,
    '"}}',
  ];
}

/** A run's envelope as text, from its task version's pieces: what {@link fill} writes as bytes. */
function joinPieces(pieces: Pieces, message: TaskMessage, now: Date): string {
  const [head, afterId, afterExpires, afterRootId, afterScheduled, afterCorrelation, afterExpiration, tail] = pieces;
  const id = message.id;
  const expires = message.expires ?? null;
  let text = `${head}${id}${afterId}${expires === null ? 'null' : `"${pythonIsoformat(expires)}"`}${afterExpires}${id}${afterRootId}`;
  if (message.scheduledAt != null) text += `${message.scheduledAt.toISOString()}${afterScheduled}`;
  text += `${id}${afterCorrelation}`;
  if (expires !== null) {
    // celery/app/base.py send_task: a past expiry becomes 0, never negative.
    text += `${Math.trunc(Math.max(0, expires.getTime() - now.getTime()))}${afterExpiration}`;
  }
  return `${text}${randomUUID()}${tail}`;
}

/** A task version's template: its pieces, and how many bytes they take. */
function templateOf(message: TaskMessage, destination: Destination): Template {
  const hasExpires = message.expires != null;
  const hasScheduled = message.scheduledAt != null;
  const pieces = piecesOf(message, destination);
  const [head, afterId, afterExpires, afterRootId, afterScheduled, afterCorrelation, afterExpiration, tail] = pieces;
  let characters = 0;
  let bytes = 0;
  for (const piece of pieces) {
    characters += piece.length;
    bytes += Buffer.byteLength(piece, 'utf8');
  }
  // afterExpiration is written only with an expiry.
  const unwritten = hasExpires ? 0 : Buffer.byteLength(afterExpiration, 'utf8');
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
    afterCorrelation,
    afterExpiration,
    tail,
    encoding: bytes === characters ? 'latin1' : 'utf8',
    fixedBytes: bytes - unwritten,
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
