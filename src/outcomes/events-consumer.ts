// dbbeat's consumer of Celery task events (--events): subscribes through the broker's
// EventSource, maps each task event to an OutcomeUpdate (events.ts) and writes them to
// dbbeat_run in batches (RunStore.applyOutcomes: one statement per batch). Events of
// tasks dbbeat did not send match no row and change nothing. Only the leader consumes
// (setActive follows leadership): one writer, and a standby's subscription costs nothing.
import type { AppliedOutcome, OutcomeUpdate, RunStore } from '../db/run-store.js';
import { redactUrl } from '../redact-url.js';
import { type CeleryEvent, eventsOfBody, outcomeOfEvent } from './events.js';
import { AmqpEventSource } from './events-amqp.js';
import { RedisEventSource } from './events-redis.js';
import { DEFAULT_EVENT_EXCHANGE, type EventSource, type EventSourceLogger } from './events-source.js';

export interface EventConsumerOptions {
  /** The Celery broker the workers send events to: redis://, rediss://, amqp://, amqps://. */
  brokerUrl: string;
  /** Celery's event_exchange. Default 'celeryev'. */
  exchange?: string;
  /** Longest wait before a batch is written, ms. Default 100. */
  flushEveryMs?: number;
  /** Updates that make a batch written at once. Default 500. */
  maxBatch?: number;
  /** Updates kept while the database cannot be written; the oldest go beyond this. Default 50,000. */
  maxPending?: number;
  /**
   * Called after each batch is written: the updates and how many runs they changed (for
   * metrics; an update of a task dbbeat did not send changes none).
   */
  onWritten?: (updates: readonly OutcomeUpdate[], changed: readonly AppliedOutcome[]) => void;
  /**
   * Awaited before each write: resolves once the runs sent so far have their history rows.
   * An event can overtake the beat's own row of its run (on RabbitMQ the worker may get the
   * message before our publish confirm returns); applied before the row exists, it would be
   * lost. The beat passes Beat.historyWritten.
   */
  beforeWrite?: () => Promise<void>;
  /** The source of events; by default the one for brokerUrl's scheme. */
  source?: EventSource;
}

/** The event source for a broker URL: Redis PUB/SUB or a RabbitMQ queue of dbbeat's own. */
export function eventSourceFor(url: string, exchange: string, log: EventSourceLogger): EventSource {
  const scheme = new URL(url).protocol;
  if (scheme === 'redis:' || scheme === 'rediss:') return new RedisEventSource(url, exchange, log);
  if (scheme === 'amqp:' || scheme === 'amqps:' || scheme === 'pyamqp:') return new AmqpEventSource(url, exchange, log);
  throw new Error(`Celery events: no event source for ${redactUrl(url)} (redis://, rediss://, amqp://, amqps://)`);
}

export class EventConsumer {
  private source: EventSource | undefined;
  private pending: OutcomeUpdate[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** start/stop in the order asked (leadership may flip while one is under way). */
  private switching: Promise<void> = Promise.resolve();
  private dropped = 0;
  /**
   * Settles once the latest subscription is made (true) or its first attempt failed
   * (false; the source retries in the background). Events published before are not seen.
   */
  subscribed: Promise<boolean> = Promise.resolve(false);
  private readonly flushEveryMs: number;
  private readonly maxBatch: number;
  private readonly maxPending: number;

  constructor(
    private readonly store: Pick<RunStore, 'applyOutcomes'>,
    private readonly options: EventConsumerOptions,
    private readonly log: EventSourceLogger,
  ) {
    this.flushEveryMs = options.flushEveryMs ?? 100;
    this.maxBatch = options.maxBatch ?? 500;
    this.maxPending = options.maxPending ?? 50_000;
  }

  /**
   * Consumes while `active` (the beat calls this on 'leader' and 'standby'). Resolves at
   * once when subscribing (see `subscribed`), after pending updates are written when
   * stopping. A broker that cannot be reached is logged and retried in the background.
   */
  setActive(active: boolean): Promise<void> {
    this.switching = this.switching.then(() => (active ? this.subscribe() : this.unsubscribe()));
    return this.switching;
  }

  /** Unsubscribes and writes what is pending. */
  async stop(): Promise<void> {
    await this.setActive(false);
  }

  /** Takes one message body (an event or a list of them); what is a task outcome is queued for writing. */
  accept(body: unknown): void {
    for (const event of eventsOfBody(body)) this.queue(event);
  }

  /** Writes the pending updates now; resolves when they are written (or failed and were kept). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing.then(() => this.writeOnce());
    return this.writing;
  }

  private queue(event: CeleryEvent): void {
    const update = outcomeOfEvent(event);
    if (update === undefined) return;
    this.pending.push(update);
    if (this.pending.length >= this.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushEveryMs);
  }

  private async writeOnce(): Promise<void> {
    if (this.pending.length > 0) await this.options.beforeWrite?.().catch(() => undefined);
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      try {
        const changed = await this.store.applyOutcomes(batch);
        this.options.onWritten?.(batch, changed);
      } catch (error) {
        // Kept, in order, and tried again after the next interval; the oldest go past maxPending.
        this.pending = [...batch, ...this.pending];
        const excess = this.pending.length - this.maxPending;
        if (excess > 0) {
          this.pending.splice(0, excess);
          this.dropped += excess;
        }
        this.log.warn(
          { err: error, pending: this.pending.length, dropped: this.dropped },
          `Celery events: writing outcomes failed (${(error as Error).message}); trying again`,
        );
        this.timer ??= setTimeout(() => void this.flush(), Math.max(this.flushEveryMs, 1000));
        return;
      }
    }
  }

  private async subscribe(): Promise<void> {
    if (this.source !== undefined) return;
    const exchange = this.options.exchange ?? DEFAULT_EVENT_EXCHANGE;
    const source = this.options.source ?? eventSourceFor(this.options.brokerUrl, exchange, this.log);
    this.source = source;
    // Not awaited: a broker that is down must not hold up leadership or stop().
    this.subscribed = source
      .start((body) => this.accept(body))
      .then(
        () => true,
        (error: unknown) => {
          this.log.warn(
            { err: error, broker: redactUrl(this.options.brokerUrl) },
            `Celery events: cannot subscribe yet (${(error as Error).message}); retrying in the background`,
          );
          return false;
        },
      );
    return Promise.resolve();
  }

  private async unsubscribe(): Promise<void> {
    const source = this.source;
    this.source = undefined;
    await source?.stop();
    await this.flush();
  }
}
