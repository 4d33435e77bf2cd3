// The contract between the beat loop and a broker. A broker adapter knows
// messages, never rows or Prisma.
import type { PyJsonText } from './pyjson.js';
import type { RoutingSettings } from './routing.js';

/** One scheduled run, ready to become a Celery protocol-2 message. */
export interface TaskMessage {
  /** Task id, deterministic per (periodic task, scheduled slot). */
  id: string;
  /** Celery task name, e.g. "proj.tasks.add". */
  task: string;
  /**
   * Positional arguments: the row's JSON text as parsed by PyJsonText.parse
   * (sent exactly as stored), or JavaScript values (read with toPyValue: a
   * whole number is an int, PyNumber.float(1) the float 1.0).
   */
  args: PyJsonText | readonly unknown[];
  /** Keyword arguments, as `args`. */
  kwargs: PyJsonText | Record<string, unknown>;
  /** Queue name; null means the default queue ("celery"). */
  queue: string | null;
  /** Exchange; null or "" means the default exchange. */
  exchange: string | null;
  routingKey: string | null;
  /** 0..255, or null when the row has none. */
  priority: number | null;
  /** The row's own headers, merged into the protocol-2 headers (as `args`). */
  headers: PyJsonText | Record<string, unknown>;
  /** Absolute expiry passed to the worker, or null. */
  expires: Date | null;
  /** django-celery-beat's PeriodicTask.name, sent as header periodic_task_name; null or absent for a plain send_task. */
  periodicTaskName?: string | null;
  /** The slot this run was scheduled for (sent in the headers); null or absent for a plain send_task. */
  scheduledAt?: Date | null;
  /** Celery's `eta`: do not run before this instant (countdown = send time + seconds). */
  eta?: Date | null;
}

/** What happened to one message of a batch. */
export type PublishOutcome =
  | { id: string; status: 'sent' }
  /** The broker already held this id (a re-send after a crash); nothing was pushed. */
  | { id: string; status: 'duplicate' }
  | { id: string; status: 'failed'; error: Error };

export interface Broker {
  /** "redis" or "amqp": for logs. */
  readonly kind: string;
  /**
   * Publishes a batch; resolves once the broker has accepted each message (Redis
   * reply, RabbitMQ publisher confirm). One outcome per message, in order.
   * Rejects only when the broker cannot be reached at all.
   */
  publish(messages: readonly TaskMessage[]): Promise<PublishOutcome[]>;
  /**
   * Optional: does ahead of time, for a message of this task version, the encoding work
   * a publish would otherwise do on the version's first sends (Redis: the envelope's
   * template), so that a run falling due after a quiet spell is only filled in. Sends
   * nothing; never throws (a message that cannot be encoded fails when it is published).
   */
  prepare?(message: TaskMessage): void;
  /** Resolves when the broker answers; rejects with a clear error when it does not. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The pino-style log calls a broker makes (a pino Logger fits). */
export interface BrokerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Options shared by every broker adapter. */
export interface BrokerOptions {
  /**
   * Redis: how long the marker that suppresses a re-sent task id lives, in
   * seconds (default 7 days). Longer than any plausible beat outage.
   */
  dedupeTtlSeconds?: number;
  /**
   * Largest message accepted, in bytes (Redis: the envelope; RabbitMQ: body and headers).
   * A larger one fails alone, naming its size, instead of making the broker drop the
   * connection (Redis proto-max-bulk-len) or close the channel (RabbitMQ max_message_size)
   * under the whole batch. Default {@link DEFAULT_MAX_MESSAGE_BYTES}.
   */
  maxMessageBytes?: number;
  logger?: BrokerLogger;
  /**
   * Celery's routing settings (task_default_queue, task_routes, …) applied
   * after the message's own queue/exchange/routing key; Celery's defaults when absent.
   */
  routing?: RoutingSettings;
}

/** 16 MiB: RabbitMQ 4's default max_message_size, far below Redis's 512 MB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** A message over the size limit; it fails alone. */
export class MessageTooLargeError extends Error {
  override readonly name = 'MessageTooLargeError';
  constructor(
    readonly taskId: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`the message is ${bytes} bytes, over the limit of ${limit} bytes (--max-message-size)`);
  }
}
