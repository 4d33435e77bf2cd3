import { routeTask } from '../broker/routing.js';
import type { Broker, TaskMessage } from '../broker/types.js';
import type { ResolvedConfig } from '../config.js';
import type { RunEntry, RunRecord } from '../db/store.js';
import { redactUrl } from '../redact-url.js';
import type { Clock } from './clock.js';
import type { Emit, SentRun } from './events.js';
import type { HistoryWriter } from './history.js';
import type { Lease } from './lease.js';
import type { DueBatch } from './loader.js';
import type { Logger } from './logger.js';
import type { Recorder } from './recorder.js';
import type { TaskFailures } from './task-failures.js';
import { runTaskId } from './task-id.js';
import type { SendSpec, TaskTable } from './task-table.js';

/** The id a prepared message carries: only its shape matters (a run's own id is filled in when it is sent). */
const PREPARED_ID = '00000000-0000-5000-8000-000000000000';

/** A run to send, as planned before the broker answers. */
interface PlannedRun {
  id: number;
  name: string;
  slot: number;
  disable: boolean;
  spec: SendSpec;
}

type DispatchOptions = Pick<ResolvedConfig, 'startingDeadlineMs' | 'catchUpWindowMs' | 'brokerUrl' | 'routing'>;

/**
 * Sends one batch of due runs: applies the starting deadline, builds each run's Celery
 * message, publishes the batch in one round trip, moves each task on to its next run in
 * memory, and hands the records of what was sent (or skipped) to the recorder.
 */
export class Dispatcher {
  /** The broker as run history names it (no password); null: history is off. */
  private readonly historyBroker: string | null;
  /** The queue each task's messages are routed to, for run history and metrics (routing is per task, not per run). */
  private readonly queues = new WeakMap<SendSpec, string | null>();

  constructor(
    private readonly broker: Broker,
    private readonly table: TaskTable,
    private readonly recorder: Recorder,
    private readonly log: Logger,
    private readonly emit: Emit,
    private readonly clock: Clock,
    private readonly options: DispatchOptions,
    private readonly lease: Pick<Lease, 'token'>,
    private readonly failures: TaskFailures,
    private readonly onLeaseLost: (reason: string) => void,
    /** Where run-history rows go; null: history is off. */
    private readonly history: HistoryWriter | null = null,
  ) {
    this.historyBroker = history !== null ? redactUrl(options.brokerUrl) : null;
  }

  /**
   * Sends `batch`, fenced by `token` (the records are written with it).
   * A run whose message fails alone (it cannot be built, or the broker refuses that
   * message) is retried on its task's own backoff (see TaskFailures); the batch goes on.
   * @throws when the broker could not be reached (every run goes back to its slot)
   */
  async send(batch: DueBatch, token: string, installationId: string): Promise<void> {
    const now = this.clock.now();
    const messages: TaskMessage[] = [];
    const planned: PlannedRun[] = [];
    const records: RunRecord[] = [];
    const history: RunEntry[] = [];
    const broker = this.historyBroker;
    const sendTime = new Date(now); // one for the batch: messageFor only reads it
    let unbuilt = 0;
    for (const { id, entry } of batch.runs) {
      const { spec } = entry;
      const lateMs = now - entry.slot;
      if (this.options.startingDeadlineMs !== null && lateMs > this.options.startingDeadlineMs) {
        this.log.warn(
          { task: spec.name, scheduled: new Date(entry.slot).toISOString(), lateMs },
          `skipped a run of ${JSON.stringify(spec.name)}: past the starting deadline`,
        );
        records.push({ id, lastRunAt: now, runs: 0, disable: false });
        if (broker !== null) history.push(this.historyEntry(id, spec, null, entry.slot, now, broker, 'SKIPPED'));
        continue;
      }
      const slot = new Date(entry.slot);
      let message: TaskMessage;
      try {
        message = messageFor(spec, runTaskId(installationId, id, slot), slot, sendTime);
      } catch (error) {
        unbuilt += 1;
        this.table.postpone(id, this.failures.failed(id, spec.name, asError(error), now));
        continue;
      }
      messages.push(message);
      planned.push({ id, name: spec.name, slot: entry.slot, disable: spec.oneOff, spec });
    }

    // The lease was checked before the rows were read; a pause since (SIGSTOP, a stalled
    // VM, a long GC) may have let it lapse and a new leader send these very runs. Check
    // its local deadline (monotonic clock) again right before publishing: RabbitMQ
    // cannot suppress a repeat.
    if (messages.length > 0 && this.lease.token !== token) {
      this.log.warn(
        { runs: messages.length + records.length },
        `dropped a batch of ${messages.length + records.length} run(s) unsent: the lease may have lapsed while it was prepared`,
      );
      this.onLeaseLost('the lease may have lapsed before a batch was published');
      return;
    }

    let outcomes;
    try {
      outcomes = messages.length > 0 ? await this.broker.publish(messages) : [];
    } catch (error) {
      // Nothing is known to be sent: every run of the batch waits for the next try
      // (skipped ones too, so they are skipped and recorded then).
      for (const run of planned) this.table.requeue(run.id);
      for (const record of records) this.table.requeue(record.id);
      this.emit('sendFailed', { runs: planned.length + records.length, error: asError(error) });
      throw error;
    }
    let duplicates = 0;
    let failed = 0;
    const skipped = records.length;
    const sent: SentRun[] = [];
    const sentAt = this.clock.now();
    const logRuns = this.log.isLevelEnabled('info'); // a million sends: skip building unused lines
    outcomes.forEach((outcome, index) => {
      const run = planned[index]!;
      const message = messages[index]!;
      if (outcome.status === 'failed') {
        failed += 1;
        this.table.postpone(run.id, this.failures.failed(run.id, run.name, outcome.error, sentAt));
        return;
      }
      this.failures.succeeded(run.id, sentAt);
      if (outcome.status === 'duplicate') duplicates += 1;
      else sent.push({ name: run.name, queue: this.queueOf(run.spec) ?? '', lateMs: sentAt - run.slot });
      records.push({
        id: run.id,
        lastRunAt: recordedLastRun(run.slot, now, this.options.catchUpWindowMs),
        runs: 1,
        disable: run.disable,
      });
      if (broker !== null)
        history.push(this.historyEntry(run.id, run.spec, message.id, run.slot, sentAt, broker, 'SENT'));
      if (!logRuns) return;
      this.log.info(
        {
          task: run.name,
          id: message.id,
          queue: message.queue ?? 'celery',
          scheduled: new Date(run.slot).toISOString(),
          sent: new Date(sentAt).toISOString(),
          ...(outcome.status === 'duplicate' ? { duplicate: true } : {}),
        },
        outcome.status === 'duplicate' ? `already sent ${run.name}` : `sent ${run.name}`,
      );
    });
    // The schedule moves on in memory at once; the database follows (or is retried).
    for (const record of records) {
      if (record.disable) this.table.delete(record.id);
      else this.table.advance(record.id, record.lastRunAt);
    }
    this.recorder.add(records, token);
    this.history?.add(history);
    await this.recorder.disable(batch.expired);
    this.emit('sent', { sent: sent.length, duplicates, failed: failed + unbuilt, skipped, runs: sent });
  }

  /**
   * Prepares the message of task `id`'s next run ahead of its time (see PrepareAhead): its
   * SendSpec (args parsed), its route, and the broker's encoding work (Broker.prepare).
   * Sends and records nothing; never throws (a message that cannot be built fails when
   * its run is sent).
   */
  prepare(id: number): void {
    const entry = this.table.get(id);
    if (entry === undefined || this.broker.prepare === undefined) return;
    const { spec, slot } = entry;
    let message: TaskMessage;
    try {
      message = messageFor(spec, PREPARED_ID, new Date(slot), new Date(this.clock.now()));
      this.queueOf(spec);
    } catch {
      return;
    }
    this.broker.prepare(message);
  }

  /** A run-history row for a run of `spec` scheduled at `slot` (epoch ms), sent (or skipped) at `at`. */
  private historyEntry(
    id: number,
    spec: SendSpec,
    taskId: string | null,
    slot: number,
    at: number,
    broker: string,
    state: RunEntry['state'],
  ): RunEntry {
    return {
      periodicTaskId: id,
      periodicTaskName: spec.name,
      task: spec.task,
      taskId,
      scheduledAt: slot,
      sentAt: at,
      lateMs: at - slot,
      broker,
      queue: this.queueOf(spec),
      manual: false,
      state,
    };
  }

  /** The queue `spec`'s messages are routed to (null: an exchange without a queue), cached per task. */
  private queueOf(spec: SendSpec): string | null {
    let queue = this.queues.get(spec);
    if (queue === undefined) {
      const route = routeTask(
        spec.task,
        { queue: spec.queue, exchange: spec.exchange, routingKey: spec.routingKey, priority: spec.priority },
        this.options.routing,
      );
      queue = route.declare?.name ?? route.routingKey;
      this.queues.set(spec, queue);
    }
    return queue;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The Celery message for one run of a task: `slot` is the scheduled time, `now` the send time. */
export function messageFor(spec: SendSpec, id: string, slot: Date, now: Date): TaskMessage {
  const expires =
    spec.expires !== null
      ? new Date(spec.expires)
      : spec.expireSeconds === null
        ? null
        : new Date(now.getTime() + spec.expireSeconds * 1000);
  return {
    id,
    task: spec.task,
    args: spec.args,
    kwargs: spec.kwargs,
    queue: spec.queue || null,
    exchange: spec.exchange || null,
    routingKey: spec.routingKey || null,
    priority: spec.priority,
    headers: spec.headers,
    expires,
    periodicTaskName: spec.name,
    scheduledAt: slot,
  };
}

/**
 * What to record as last_run_at after sending the run for `slot` at `now`: the rule for
 * missed runs (docs/DESIGN.md §5).
 *
 * - On time, or late by at most the catch-up window (a failover, a short broker
 *   outage): the slot itself. Interval runs do not drift, each missed slot is still sent
 *   once (the next one follows from this one), and a beat that takes over after a crash
 *   computes the same slot, and so the same task id, from the database.
 * - Late by more than the window (the beat was down): `now`. This run is the one
 *   catch-up run for every slot missed (Celery's rule), and the schedule goes on from
 *   it: the slots up to now, including one due a moment ago, are not sent as well.
 */
export function recordedLastRun(slot: number, now: number, catchUpWindowMs: number): number {
  return now - slot > catchUpWindowMs ? now : slot;
}
