import { connectBroker } from '../broker/index.js';
import type { Broker } from '../broker/types.js';
import { type BeatOptions, resolveConfig, type ResolvedConfig } from '../config.js';
import { migrate } from '../db/migrate.js';
import { beatStoreFor, openDatabase, type OpenDatabase, runStoreFor } from '../db/open.js';
import { dataDirOwner, EmbeddedBeatConflictError } from '../db/pglite/data-dir.js';
import type { Metrics } from '../outcomes/metrics.js';
import type { EventConsumer } from '../outcomes/events-consumer.js';
import { LostSweeper } from '../outcomes/lost.js';
import { HistoryPruner } from '../outcomes/retention.js';
import { redactUrl } from '../redact-url.js';
import { watchBeat } from './beat-metrics.js';
import { Backoff } from './clock.js';
import { DatabaseClock } from './database-clock.js';
import { checkBrokerAtStart, describeTransient, permanentFailure } from './failures.js';
import { BeatHealth } from './health.js';
import { createLogger, type Logger } from './logger.js';
import { Beat } from './loop.js';
import { writePidFile } from './pidfile.js';

export { Beat, type BeatEvents } from './loop.js';
export { runTaskId } from './task-id.js';
export { PermanentFailure } from './failures.js';
export { BeatHealth, type Readiness } from './health.js';

export interface BeatHandle {
  /** Resolves once this process has loaded its tasks as leader, or stands by. */
  readonly ready: Promise<void>;
  /** The running beat (typed events), once connected. */
  readonly beat: Promise<Beat>;
  /** The beat's database, once open and migrated (to serve the console from the same process). */
  readonly database: Promise<OpenDatabase>;
  readonly options: ResolvedConfig;
  readonly log: Logger;
  /** Readiness (GET /readyz): leader or standby behind a live lease, broker and database answering. */
  readonly health: BeatHealth;
  /** The metrics the beat feeds, when it was started with some (`dbbeat beat --http`). */
  readonly metrics: Metrics | undefined;
  /** Finishes the batch in flight, records it, releases the lease, closes connections. */
  stop(): Promise<void>;
}

class Stopped extends Error {}

/**
 * Starts a beat. It returns at once: connecting waits out a database or broker that is
 * down (logging and retrying with backoff), and `ready` resolves when the beat runs.
 */
export async function startBeat(options: BeatOptions = {}): Promise<BeatHandle> {
  return startResolvedBeat(resolveConfig(options));
}

/** What a beat reports to, besides its log. */
export interface BeatReporting {
  /** Metrics to feed (src/outcomes/metrics.ts); none by default. */
  metrics?: Metrics;
}

/** startBeat with settings already resolved (the CLI resolves them once, for every command). */
export async function startResolvedBeat(resolved: ResolvedConfig, reporting: BeatReporting = {}): Promise<BeatHandle> {
  if (resolved.databaseUrl === undefined) {
    // Checked before anything starts: an embedded folder has one beat, its owner.
    const owner = await dataDirOwner(resolved.dataDir);
    if (owner !== undefined) throw new EmbeddedBeatConflictError(resolved.dataDir, owner.pid);
  }
  const log = createLogger(resolved);
  const removePidFile = resolved.pidFile ? writePidFile(resolved.pidFile) : undefined;
  const { metrics } = reporting;
  const health = new BeatHealth(resolved.leaseSeconds, metrics);
  // Each scrape checks the broker and the database (and so sets their up metrics).
  metrics?.beforeScrape(async () => void (await health.check()));
  let stopping = false;
  let wakeRetry: (() => void) | undefined;

  /**
   * Retries `attempt` with backoff until it succeeds or the beat is stopped. A failure no
   * retry can mend (a wrong URL, a missing database, bad credentials, an edited migration)
   * rejects at once with a PermanentFailure: the CLI exits with code 2.
   */
  async function retry<T>(what: string, url: string | undefined, attempt: () => Promise<T>): Promise<T> {
    const backoff = new Backoff(500, 10_000);
    for (;;) {
      if (stopping) throw new Stopped();
      try {
        return await attempt();
      } catch (error) {
        if (stopping) throw new Stopped();
        const permanent = permanentFailure(error, what, url);
        if (permanent) throw permanent;
        const delay = backoff.next();
        log.debug({ err: error }, `${what}: ${(error as Error).message}`);
        log.error(`${what}: ${describeTransient(error, what, url)}; retrying in ${Math.round(delay)} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          wakeRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  let db: OpenDatabase | undefined;
  let broker: Broker | undefined;
  let pruner: HistoryPruner | undefined;
  let resultPoller: { stop(): Promise<void> } | undefined;
  let events: EventConsumer | undefined;
  let lost: LostSweeper | undefined;
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  let resolveDatabase!: (db: OpenDatabase) => void;
  const databaseOpened = new Promise<OpenDatabase>((resolve) => (resolveDatabase = resolve));

  const running = (async () => {
    db = await retry('database', resolved.databaseUrl, async () => {
      const opened = await openDatabase({
        databaseUrl: resolved.databaseUrl,
        dataDir: resolved.dataDir,
        dbTimeZone: resolved.dbTimeZone,
        serve: true,
        log: (message) => log.warn(message),
      });
      // Connect now, so that a missing database or a refused login is known at start.
      await opened.query('SELECT 1').catch(async (error: unknown) => {
        await opened.close().catch(() => undefined);
        throw error;
      });
      return opened;
    });
    const database = db;
    if (resolved.migrate) {
      await retry('migrate', resolved.databaseUrl, () => migrate(database, { log: (message) => log.info(message) }));
    }
    resolveDatabase(database);
    broker = await retry('broker', resolved.brokerUrl, () =>
      connectBroker(resolved.brokerUrl, {
        dedupeTtlSeconds: resolved.dedupeTtlSeconds,
        routing: resolved.routing,
        maxMessageBytes: resolved.maxMessageBytes,
        logger: log,
      }),
    );
    await checkBrokerAtStart(broker, resolved.brokerUrl, (message) => log.warn(message));
    // Schedules follow the database's clock, measured at every lease renewal.
    // Allowed to migrate, the beat also repairs dbbeat objects that go missing while it runs.
    const repair = resolved.migrate ? async () => migrate(database) : undefined;
    const clock = new DatabaseClock(log);
    const beat = new Beat(beatStoreFor(database), broker, log, resolved, clock, repair);
    beat.once('ready', () => resolveReady());
    health.attach(beat, broker, database);
    if (metrics) watchBeat(beat, metrics);
    log.info(
      {
        database: database.description,
        broker: redactUrl(resolved.brokerUrl),
        maxIntervalS: resolved.maxIntervalMs / 1000,
        holder: resolved.holder,
      },
      'dbbeat starting',
    );
    beat.start();
    pruner = new HistoryPruner(runStoreFor(database), resolved.history, log, () => beat.isLeader);
    pruner.start();
    // The outcome collectors, off by default, are imported only when configured: the event
    // consumer alone brings amqplib (tens of ms of start-up) even for a Redis broker.
    if (resolved.resultBackend !== null) {
      const { startResultBackendPoller } = await import('../outcomes/result-backend-poller.js');
      resultPoller = startResultBackendPoller(resolved, runStoreFor(database), log, () => beat.isLeader, {
        ...(metrics && { onApplied: (runs) => metrics.applied(runs) }),
      });
    }
    if (resolved.history.enabled && resolved.events.enabled) {
      const { EventConsumer } = await import('../outcomes/events-consumer.js');
      // Only the leader consumes and writes outcomes; a standby takes over with the lease.
      const consumer = new EventConsumer(
        runStoreFor(database),
        {
          brokerUrl: resolved.brokerUrl,
          exchange: resolved.events.exchange,
          ...(metrics && { onWritten: (_updates, runs) => metrics.applied(runs) }),
          beforeWrite: () => beat.historyWritten(),
        },
        log,
      );
      events = consumer;
      beat.on('leader', () => void consumer.setActive(true));
      beat.on('standby', () => void consumer.setActive(false));
      if (beat.isLeader) void consumer.setActive(true);
    }
    // LOST only while some source reports outcomes: without one, every run would go LOST.
    const outcomesCollected = resolved.events.enabled || resolved.resultBackend !== null;
    if (resolved.history.enabled && outcomesCollected && resolved.lostAfterMs !== null) {
      lost = new LostSweeper(
        runStoreFor(database),
        {
          lostAfterMs: resolved.lostAfterMs,
          now: () => clock.now(),
          ...(metrics && { onLost: (n: number) => metrics.outcome('LOST', n) }),
        },
        log,
        () => beat.isLeader,
      );
      lost.start();
    }
    return beat;
  })();
  // Keep an unhandled rejection from escaping when stop() comes first.
  running.catch(() => undefined);

  return {
    ready,
    beat: running,
    database: databaseOpened,
    options: resolved,
    log,
    health,
    metrics,
    async stop() {
      stopping = true;
      wakeRetry?.();
      const beat = await running.catch(() => undefined);
      await pruner?.stop();
      await resultPoller?.stop();
      await lost?.stop();
      await events?.stop();
      await beat?.stop();
      await broker?.close().catch(() => undefined);
      await db?.close().catch(() => undefined);
      removePidFile?.();
      log.info('dbbeat stopped');
      log.flush();
    },
  };
}
