// The Redis envelope the floor pushes: the same JSON kombu's Redis transport LPUSHes
// for a Celery protocol-2 message. Headers, body and properties come from dbbeat's own
// builder (src/broker/message.ts, buildProtocol2) when it is present, so the floor pushes
// exactly dbbeat's bytes; otherwise from a local copy of the same shape and size.
import { randomUUID } from 'node:crypto';

import type { TaskMessage } from '../../src/broker/types.js';

/** Turns one run into the string LPUSHed onto its list. */
export type EnvelopeBuilder = (message: TaskMessage, now: Date) => string;

interface Protocol2Parts {
  headers: Record<string, unknown>;
  bodyJson: string;
  properties: Record<string, unknown>;
}
type BuildProtocol2 = (message: TaskMessage, now: Date) => Protocol2Parts;

/** Which builder the floor used, for the report. */
export let envelopeSource: 'src/broker/message.ts' | 'bench fallback' = 'bench fallback';

/** Loads dbbeat's protocol-2 builder if it exists, else the fallback. */
export async function loadEnvelopeBuilder(): Promise<EnvelopeBuilder> {
  const build = (await importProjectBuilder()) ?? fallbackProtocol2;
  envelopeSource = build === fallbackProtocol2 ? 'bench fallback' : 'src/broker/message.ts';
  return (message, now) => wrapForRedis(build(message, now), message);
}

async function importProjectBuilder(): Promise<BuildProtocol2 | null> {
  // A computed specifier: the module may not exist yet in this checkout, and the
  // benchmark must still type-check and run without it.
  const specifier = '../../src/broker/message.js';
  try {
    const module = (await import(specifier)) as { buildProtocol2?: unknown };
    return typeof module.buildProtocol2 === 'function' ? (module.buildProtocol2 as BuildProtocol2) : null;
  } catch {
    return null;
  }
}

/** kombu's Redis envelope around a protocol-2 message. */
function wrapForRedis(parts: Protocol2Parts, message: TaskMessage): string {
  const queue = message.queue ?? 'celery';
  return JSON.stringify({
    body: Buffer.from(parts.bodyJson, 'utf8').toString('base64'),
    'content-encoding': 'utf-8',
    'content-type': 'application/json',
    headers: parts.headers,
    properties: {
      ...parts.properties,
      delivery_info: { exchange: message.exchange ?? '', routing_key: message.routingKey ?? queue },
      body_encoding: 'base64',
      delivery_tag: randomUUID(),
    },
  });
}

const ORIGIN = `gen${process.pid}@bench`;
const REPLY_TO = randomUUID();

/** The same fields as Celery's protocol-2 headers, for when dbbeat's builder is absent. */
function fallbackProtocol2(message: TaskMessage): Protocol2Parts {
  const body = [message.args, message.kwargs, { callbacks: null, errbacks: null, chain: null, chord: null }];
  return {
    headers: {
      lang: 'py',
      task: message.task,
      id: message.id,
      shadow: null,
      eta: null,
      expires: null,
      group: null,
      group_index: null,
      retries: 0,
      timelimit: [null, null],
      root_id: message.id,
      parent_id: null,
      argsrepr: JSON.stringify(message.args).replace(/"/g, "'"),
      kwargsrepr: '{}',
      origin: ORIGIN,
      ignore_result: false,
      ...message.headers,
      periodic_task_name: message.periodicTaskName,
      dbbeat_scheduled_at: message.scheduledAt.toISOString(),
    },
    bodyJson: JSON.stringify(body),
    properties: { correlation_id: message.id, reply_to: REPLY_TO, delivery_mode: 2, priority: message.priority ?? 0 },
  };
}
