// `sendTask`: Celery's `app.send_task(name, args, kwargs, **options)` from Node.
// The message is built by the same code as the beat's runs (message.ts) and
// published by the same broker adapters, so a Celery 5 worker sees exactly what
// Python's send_task would have sent.
import { randomUUID } from 'node:crypto';

import { connectBroker } from './index.js';
import type { Broker, TaskMessage } from './types.js';

/** The options of Celery's `send_task` that dbbeat supports. */
export interface SendTaskOptions {
  /** Queue name (default: Celery's default queue "celery"). */
  queue?: string | null;
  /** Exchange name; with `routingKey`, the message is published to it (default: the default exchange ""). */
  exchange?: string | null;
  /** Routing key; alone (no queue, no exchange) the message goes to the default queue, as in Celery (src/broker/routing.ts). */
  routingKey?: string | null;
  /** 0-255 on RabbitMQ; on Redis 0-9, sorted into kombu's priority lists (0, 3, 6, 9). */
  priority?: number | null;
  /** Seconds from now before the worker may run it (Celery's `countdown`; sets `eta`). Not with `eta`. */
  countdown?: number;
  /** Earliest time the worker may run it (Celery's `eta`). Not with `countdown`. */
  eta?: Date;
  /** A Date, or seconds from now: the worker discards the task after it (also the AMQP expiration). */
  expires?: Date | number | null;
  /** Extra message headers, merged over Celery's own as Celery does (except lang, id, task). */
  headers?: Record<string, unknown>;
  /** The task id (default: a fresh UUID4, as Celery's `uuid()`). */
  taskId?: string;
  /**
   * Where to send it: a connected Broker (kept open), or a broker URL (connected and closed
   * for this one message). Default: CELERY_BROKER_URL, then BROKER_URL, then redis://127.0.0.1:6379/0.
   */
  broker?: Broker | string;
}

/** An argument of sendTask that Celery would refuse too. */
export class SendTaskError extends Error {
  override readonly name = 'SendTaskError';
}

/** The broker URL the environment names, as Celery and `dbbeat beat` read it. */
export function brokerUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.CELERY_BROKER_URL || env.BROKER_URL || 'redis://127.0.0.1:6379/0';
}

/**
 * The protocol-2 message of Celery's `send_task` for these arguments (no periodic
 * task name, no scheduled slot). `now` is the send time for `countdown` and `expires` in seconds.
 * @throws SendTaskError for arguments of the wrong shape, naming the argument
 */
export function sendTaskMessage(
  name: string,
  args: unknown[] = [],
  kwargs: Record<string, unknown> = {},
  options: SendTaskOptions = {},
  now: Date = new Date(),
): TaskMessage {
  if (typeof name !== 'string' || name === '')
    throw new SendTaskError(`name: ${JSON.stringify(name)} is not a task name`);
  if (!Array.isArray(args)) throw new SendTaskError(`args: ${describe(args)} is not a list`);
  if (typeof kwargs !== 'object' || kwargs === null || Array.isArray(kwargs))
    throw new SendTaskError(`kwargs: ${describe(kwargs)} is not an object`);
  if (options.countdown !== undefined && options.eta !== undefined)
    throw new SendTaskError('countdown, eta: give only one of them');
  if (options.countdown !== undefined && !Number.isFinite(options.countdown))
    throw new SendTaskError(`countdown: ${describe(options.countdown)} is not a number of seconds`);
  if (
    options.priority != null &&
    !(Number.isInteger(options.priority) && options.priority >= 0 && options.priority <= 255)
  ) {
    throw new SendTaskError(`priority: ${describe(options.priority)} is not an integer in 0-255`);
  }
  const eta =
    options.eta ?? (options.countdown !== undefined ? new Date(now.getTime() + options.countdown * 1000) : null);
  if (eta !== null && Number.isNaN(eta.getTime())) throw new SendTaskError('eta: Invalid Date');
  let expires: Date | null = null;
  if (typeof options.expires === 'number') {
    if (!Number.isFinite(options.expires))
      throw new SendTaskError(`expires: ${describe(options.expires)} is not a number of seconds`);
    expires = new Date(now.getTime() + options.expires * 1000);
  } else if (options.expires instanceof Date) {
    if (Number.isNaN(options.expires.getTime())) throw new SendTaskError('expires: Invalid Date');
    expires = options.expires;
  }
  return {
    id: options.taskId ?? randomUUID(),
    task: name,
    args,
    kwargs,
    queue: options.queue || null,
    exchange: options.exchange || null,
    routingKey: options.routingKey || null,
    priority: options.priority ?? null,
    headers: options.headers ?? {},
    expires,
    eta,
    periodicTaskName: null,
    scheduledAt: null,
  };
}

/**
 * Sends one task as Celery's `app.send_task(name, args, kwargs, **options)` does and
 * returns its task id once the broker accepted it (Redis reply, RabbitMQ publisher confirm).
 *
 * On Redis a task id that dbbeat already sent within its dedupe window (7 days) is not
 * pushed again: give no `taskId` (a fresh UUID) unless that is what you want.
 *
 * @param name Celery task name, e.g. "proj.tasks.add"
 * @param args positional arguments (a JSON-serialisable list)
 * @param kwargs keyword arguments (a JSON-serialisable object)
 * @throws SendTaskError for bad arguments; the broker's error when it refused the message
 */
export async function sendTask(
  name: string,
  args: unknown[] = [],
  kwargs: Record<string, unknown> = {},
  options: SendTaskOptions = {},
): Promise<string> {
  const message = sendTaskMessage(name, args, kwargs, options);
  await publishOne(message, options.broker);
  return message.id;
}

/**
 * Publishes one message on `broker` (a Broker, a URL, or the environment's broker)
 * and resolves once it was accepted.
 * @throws the broker's error when the message was refused or the broker cannot be reached
 */
export async function publishOne(message: TaskMessage, broker: Broker | string | undefined): Promise<void> {
  const owned = typeof broker === 'object' ? undefined : await connectBroker(broker ?? brokerUrlFromEnv());
  try {
    const [outcome] = await (owned ?? (broker as Broker)).publish([message]);
    if (outcome?.status === 'failed') throw outcome.error;
  } finally {
    await owned?.close();
  }
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
