import { type Command, InvalidArgumentError } from 'commander';

import { OptionsError, resolveConfig } from '../config.js';
import { EmbeddedBeatConflictError } from '../db/pglite/data-dir.js';
import { detach, dropPrivileges } from './detach.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { HttpConfigError } from '../http/auth.js';
import { type HttpFlags, addHttpAuthOptions, resolveHttp } from './http-flags.js';
import type { serveConsole } from './serve.js';

function seconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return parsed;
}

function secondsOrZero(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0)
    throw new InvalidArgumentError('expected 0 or a positive number of seconds');
  return parsed;
}

function count(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return parsed;
}

interface BeatFlags extends HttpFlags {
  maxInterval?: number;
  loglevel?: string;
  logfile?: string;
  pidfile?: string;
  broker?: string;
  databaseUrl?: string;
  dbTimezone?: string;
  dataDir?: string;
  migrate: boolean;
  startingDeadline?: number;
  catchUpWindow?: number;
  batchSize?: number;
  leaseSeconds?: number;
  timezone?: string;
  djangoTzAware?: string;
  taskDefaultQueue?: string;
  taskDefaultExchange?: string;
  taskDefaultExchangeType?: string;
  taskDefaultRoutingKey?: string;
  taskRoutes?: string;
  logFormat?: string;
  detach?: boolean;
  workdir?: string;
  uid?: string;
  gid?: string;
  maxMessageSize?: number;
  schemaCheckInterval?: number;
  history?: boolean;
  historyDays?: number;
  historyMaxRows?: number;
  resultBackend?: string;
  resultBackendInterval?: number;
  failingAfter?: number;
  metricsPerTask?: boolean;
  metricsPublic?: boolean;
  events?: boolean;
  eventExchange?: string;
  lostAfter?: number;
}

function tzAware(text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  const lower = text.toLowerCase();
  if (['true', '1', 'yes'].includes(lower)) return true;
  if (['false', '0', 'no'].includes(lower)) return false;
  throw new OptionsError(`django-tz-aware: ${JSON.stringify(text)} is not True or False`);
}

/** `dbbeat beat`: run the scheduler, with Celery beat's options where they fit. */
export function registerBeatCommand(program: Command): void {
  const command = program
    .command('beat')
    .description('run the scheduler: send due periodic tasks to the broker')
    .option('--max-interval <seconds>', 'longest sleep between looks at the database (default 5)', seconds)
    .option('-l, --loglevel <level>', 'DEBUG, INFO, WARNING, ERROR or CRITICAL (default INFO)')
    .option('-f, --logfile <path>', 'log to this file instead of stdout')
    .option('--pidfile <path>', 'write the process id to this file while running')
    .option('-b, --broker <url>', 'broker URL (env CELERY_BROKER_URL or BROKER_URL; default redis://127.0.0.1:6379/0)')
    .option(
      '--database-url <url>',
      'postgres://, mysql:// or mariadb:// URL (env DATABASE_URL; default: embedded database in --data-dir)',
    )
    .option(
      '--db-timezone <zone>',
      "MySQL/MariaDB: zone of the tables' naive times, Django's TIME_ZONE with USE_TZ = False (env DBBEAT_DB_TIMEZONE; default UTC)",
    )
    .option('--data-dir <path>', 'folder of the embedded database (default ./.dbbeat)')
    .option('--no-migrate', 'do not apply pending migrations on start')
    .option('--starting-deadline <seconds>', 'skip a run that is more than this late instead of sending it', seconds)
    .option(
      '--catch-up-window <seconds>',
      'runs missed within this many seconds are each sent; older ones collapse into one (default 15)',
      Number,
    )
    .option('--batch-size <n>', 'runs sent per broker round trip (default 5000)', count)
    .option('--lease-seconds <seconds>', 'leader lease time to live (default 5)', seconds)
    .option(
      '--timezone <zone>',
      "Celery's timezone (env CELERY_TIMEZONE; default UTC): checked at start, default zone of crontab rows written through dbbeat",
    )
    .option(
      '--django-tz-aware <bool>',
      "False: read every crontab in --timezone, not its row's zone, as django-celery-beat with DJANGO_CELERY_BEAT_TZ_AWARE=False (env DJANGO_CELERY_BEAT_TZ_AWARE; default True)",
    )
    .option(
      '--task-default-queue <name>',
      "Celery's task_default_queue (env CELERY_TASK_DEFAULT_QUEUE; default celery)",
    )
    .option(
      '--task-default-exchange <name>',
      "Celery's task_default_exchange (env CELERY_TASK_DEFAULT_EXCHANGE; default: the default queue)",
    )
    .option(
      '--task-default-exchange-type <type>',
      "Celery's task_default_exchange_type: direct, topic or fanout (env CELERY_TASK_DEFAULT_EXCHANGE_TYPE; default direct)",
    )
    .option(
      '--task-default-routing-key <key>',
      "Celery's task_default_routing_key (env CELERY_TASK_DEFAULT_ROUTING_KEY; default: the default queue)",
    )
    .option('--task-routes <json>', 'Celery\'s task_routes as JSON: {"proj.tasks.*": "queue"} (env CELERY_TASK_ROUTES)')
    .option(
      '--max-message-size <bytes>',
      'largest message sent; a larger one fails alone and its task retries on its own (default 16777216)',
      count,
    )
    .option(
      '--schema-check-interval <seconds>',
      "how often to check dbbeat's tables, triggers and functions (default 300)",
      seconds,
    )
    .option('--no-history', 'keep no run history (env DBBEAT_HISTORY=False)')
    .option('--history-days <days>', 'days of run history kept (env DBBEAT_HISTORY_DAYS; default 14)', seconds)
    .option(
      '--history-max-rows <n>',
      'most rows of run history kept, oldest pruned first (env DBBEAT_HISTORY_MAX_ROWS; default 1000000)',
      count,
    )
    .option(
      '--result-backend <url>',
      "read runs' outcomes from Celery's result backend: redis://…, db+postgresql://…, db+mysql://…, postgres://… or django-db (django-celery-results) (env CELERY_RESULT_BACKEND)",
    )
    .option(
      '--result-backend-interval <seconds>',
      'seconds between reads of the result backend (env DBBEAT_RESULT_BACKEND_INTERVAL; default 5)',
      seconds,
    )
    .option(
      '--failing-after <k>',
      'a task is failing when its last K runs failed (env DBBEAT_FAILING_AFTER; default 3)',
      count,
    )
    .option('--events', 'record run outcomes from Celery task events, of workers started with -E (env DBBEAT_EVENTS)')
    .option('--event-exchange <name>', "Celery's event_exchange (env CELERY_EVENT_EXCHANGE; default celeryev)")
    .option(
      '--lost-after <seconds>',
      'with --events or --result-backend: a run with no outcome this long after sending becomes LOST; 0: never (env DBBEAT_LOST_AFTER; default 3600)',
      secondsOrZero,
    )
    .option(
      '--http <host:port>',
      'also serve the console (web page and REST API), /metrics, /healthz and /readyz here, e.g. 127.0.0.1:8765',
    )
    .option('--metrics-per-task', "label runs sent in /metrics with each periodic task's name (one series per task)")
    .option('--metrics-public', "serve /metrics without the console's credentials (it needs them when some are set)")
    .option('--log-format <format>', 'text (time, level, message) or json (default: text on a terminal, else json)')
    .option('--detach', 'run in the background (paths are made absolute first; output goes to --logfile)')
    .option('--workdir <path>', 'change to this directory before running')
    .option('--uid <user>', 'run as this user (name or number; needs root)')
    .option('--gid <group>', 'run as this group (name or number; needs root)');
  addHttpAuthOptions(command).action(async (flags: BeatFlags) => {
    // Loaded here, not at the top: `dbbeat --help` and the other commands need none of it.
    // The console's modules (HTTP server, Prisma, prom-client) load only with --http.
    const { PermanentFailure, startResolvedBeat } = await import('../beat/index.js');
    let handle;
    let http;
    let metrics;
    try {
      if (flags.http !== undefined) http = resolveHttp(flags, flags.http);
      const config = resolveConfig({
        maxInterval: flags.maxInterval,
        logLevel: flags.loglevel,
        logFile: flags.logfile,
        pidFile: flags.pidfile,
        brokerUrl: flags.broker,
        databaseUrl: flags.databaseUrl,
        dbTimeZone: flags.dbTimezone,
        dataDir: flags.dataDir,
        migrate: flags.migrate,
        startingDeadline: flags.startingDeadline,
        catchUpWindow: flags.catchUpWindow,
        batchSize: flags.batchSize,
        leaseSeconds: flags.leaseSeconds,
        timezone: flags.timezone,
        djangoTzAware: tzAware(flags.djangoTzAware),
        taskDefaultQueue: flags.taskDefaultQueue,
        taskDefaultExchange: flags.taskDefaultExchange,
        taskDefaultExchangeType: flags.taskDefaultExchangeType,
        taskDefaultRoutingKey: flags.taskDefaultRoutingKey,
        taskRoutes: flags.taskRoutes,
        // commander sets history to true unless --no-history: only the flag's false overrides the environment.
        history: flags.history === false ? false : undefined,
        historyDays: flags.historyDays,
        historyMaxRows: flags.historyMaxRows,
        resultBackend: flags.resultBackend,
        resultBackendInterval: flags.resultBackendInterval,
        failingAfter: flags.failingAfter,
        events: flags.events === true ? true : undefined,
        eventExchange: flags.eventExchange,
        lostAfter: flags.lostAfter,
        logFormat: flags.logFormat,
        maxMessageSize: flags.maxMessageSize,
        schemaCheckInterval: flags.schemaCheckInterval,
      });
      if (flags.detach) {
        // Settings are checked above, in the foreground: a bad one exits 2 here, not in the log.
        detach(process.argv.slice(2), flags.logfile, flags.workdir, flags.uid !== undefined || flags.gid !== undefined);
        process.exit(EXIT_OK);
      }
      if (flags.workdir !== undefined) process.chdir(flags.workdir);
      dropPrivileges(flags.uid, flags.gid);
      // Metrics are kept only when something serves them.
      if (http !== undefined) {
        const { Metrics } = await import('../outcomes/metrics.js');
        metrics = new Metrics({ perTask: flags.metricsPerTask === true });
      }
      handle = await startResolvedBeat(config, { metrics });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`dbbeat beat: ${message}`);
      process.exit(
        error instanceof OptionsError || error instanceof HttpConfigError || error instanceof EmbeddedBeatConflictError
          ? EXIT_USAGE
          : EXIT_FAILURE,
      );
    }
    const beatHandle = handle;
    let console_: Awaited<ReturnType<typeof serveConsole>> | undefined;
    if (http !== undefined && metrics !== undefined) {
      const where = http;
      const served = metrics;
      // Served from the beat's own database connection (the embedded database has one owner).
      void beatHandle.database
        .then(
          async (database) =>
            (console_ = await (
              await import('./serve.js')
            ).serveConsole(database, where, beatHandle.options, beatHandle.log, {
              metrics: served,
              readiness: () => beatHandle.health.check(),
              metricsPublic: flags.metricsPublic === true,
            })),
        )
        .catch((error: unknown) => {
          beatHandle.log.fatal({ err: error }, `console: cannot serve on ${flags.http}: ${(error as Error).message}`);
          void beatHandle.stop().finally(() => process.exit(EXIT_FAILURE));
        });
    }
    let stopping = false;
    // A failure no retry can mend ends the process: one line naming the setting, exit 2.
    void beatHandle.beat.catch(async (error: unknown) => {
      if (stopping) return;
      stopping = true;
      const message = error instanceof Error ? error.message : String(error);
      beatHandle.log.fatal(message);
      console.error(`dbbeat beat: ${message}`);
      await beatHandle.stop().catch(() => undefined);
      process.exit(error instanceof PermanentFailure ? EXIT_USAGE : EXIT_FAILURE);
    });
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      handle.log.info(`received ${signal}: finishing the batch in flight`);
      Promise.resolve(console_?.stop())
        .catch(() => undefined)
        .then(() => handle.stop())
        .then(
          () => process.exit(EXIT_OK),
          (error: unknown) => {
            console.error(error);
            process.exit(EXIT_FAILURE);
          },
        );
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
  });
}
