// dbbeat's consumer of Celery task events (--events): subscribes through the broker's
// EventSource, maps each task event to an OutcomeUpdate (events.ts) and writes them to
// dbbeat_run in batches (RunStore.applyOutcomes: one statement per batch). Events of
// tasks dbbeat did not send match no row and change nothing. Only the leader consumes
// (setActive follows leadership): one writer, and a standby's subscription costs nothing.
import { BatchWriter } from '../batch-writer.js';
import type { AppliedOutcome, OutcomeUpdate, RunStore } from '../db/run-store.js';
import { redactUrl } from '../redact-url.js';
import { eventsOfBody, outcomeOfEvent } from './events.js';
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
  private readonly writer: BatchWriter<OutcomeUpdate>;
  /** start/stop in the order asked (leadership may flip while one is under way). */
  private switching: Promise<void> = Promise.resolve();
  /**
   * Settles once the latest subscription is made (true) or its first attempt failed
   * (false; the source retries in the background). Events published before are not seen.
   */
  subscribed: Promise<boolean> = Promise.resolve(false);

  constructor(
    store: Pick<RunStore, 'applyOutcomes'>,
    private readonly options: EventConsumerOptions,
    private readonly log: EventSourceLogger,
  ) {
    const flushEveryMs = options.flushEveryMs ?? 100;
    this.writer = new BatchWriter<OutcomeUpdate>({
      write: async (batch) => {
        const changed = await store.applyOutcomes(batch);
        options.onWritten?.(batch, changed);
      },
      flushEveryMs,
      maxBatch: options.maxBatch ?? 500,
      maxPending: options.maxPending ?? 50_000,
      // Kept, in order, and tried again after the next interval; the oldest go past maxPending.
      retryAfterMs: Math.max(flushEveryMs, 1000),
      ...(options.beforeWrite && { beforeWrite: options.beforeWrite }),
      onFailed: ({ error, pending, dropped }) =>
        log.warn(
          { err: error, pending, dropped },
          `Celery events: writing outcomes failed (${(error as Error).message}); trying again`,
        ),
    });
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
    for (const event of eventsOfBody(body)) {
      const update = outcomeOfEvent(event);
      if (update !== undefined) this.writer.add([update]);
    }
  }

  /** Writes the pending updates now; resolves when they are written (or failed and were kept). */
  flush(): Promise<void> {
    return this.writer.flush();
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
