// dbbeat's settings, resolved once for every command: flags (or the options a caller
// passes), then the environment, then defaults. Commands pass the resolved object down.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

import { IANAZone } from 'luxon';

import { DEFAULT_ROUTING, type RouteMap, type RoutingSettings, parseTaskRoutes } from './broker/routing.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './broker/types.js';
import { DEFAULT_DATA_DIR } from './db/pglite/data-dir.js';
import { ResultBackendUrlError, parseResultBackendUrl } from './outcomes/result-backend.js';
import type { ResultBackendSettings } from './outcomes/result-backend-poller.js';
import type { HistorySettings } from './outcomes/retention.js';
import { redactUrl } from './redact-url.js';
import { zoneProblem } from './schedules/zone.js';

/** What a caller (a command's flags, or startBeat's options) may set; everything is optional. */
export interface BeatOptions {
  /** postgres://…, postgresql://…, mysql://… or mariadb://… ; unset: the embedded PGlite database in `dataDir`. Env: DATABASE_URL. */
  databaseUrl?: string;
  /**
   * MySQL/MariaDB: the IANA zone of the naive DATETIMEs in django-celery-beat's tables. Match
   * Django: UTC when it runs with USE_TZ = True, its TIME_ZONE when USE_TZ = False.
   * Default UTC. Env: DBBEAT_DB_TIMEZONE. (PostgreSQL's columns carry their zone: ignored there.)
   */
  dbTimeZone?: string;
  /** Folder of the embedded database. Default ./.dbbeat. Env: DBBEAT_DATA_DIR. */
  dataDir?: string;
  /** redis://…, rediss://…, amqp://…, amqps://… Env: CELERY_BROKER_URL, BROKER_URL. Default redis://127.0.0.1:6379/0. */
  brokerUrl?: string;
  /** Longest sleep between looks at the database, in seconds (Celery's beat_max_loop_interval). Default 5. */
  maxInterval?: number;
  /** DEBUG, INFO, WARNING, ERROR or CRITICAL (any case). Default INFO. */
  logLevel?: string;
  /** Write logs to this file instead of stdout. */
  logFile?: string;
  /** `text` (time, level, message, as Celery prints them) or `json` (one object a line). Default: text on a terminal, else json. */
  logFormat?: string;
  /** Write the process id here while running; removed on exit. */
  pidFile?: string;
  /** Apply pending migrations on start. Default true. */
  migrate?: boolean;
  /** Skip, rather than send, a run that is more than this many seconds late. Default: none (always send one catch-up run). */
  startingDeadline?: number | null;
  /**
   * Seconds within which missed runs are each still sent (default 15, longer than a
   * failover takes). Runs missed longer ago collapse into one catch-up run.
   */
  catchUpWindow?: number;
  /**
   * Celery's `timezone` (CELERY_TIMEZONE): checked at start (an unknown zone is an
   * error), the default zone of crontab rows written through dbbeat, and with
   * `djangoTzAware: false` the zone every crontab is read in. Default UTC.
   */
  timezone?: string;
  /**
   * django-celery-beat's DJANGO_CELERY_BEAT_TZ_AWARE. false: crontab fields are read
   * in `timezone` (CELERY_TIMEZONE), not in each row's `timezone` column, as
   * django-celery-beat does in that mode. Default true. Env: DJANGO_CELERY_BEAT_TZ_AWARE.
   */
  djangoTzAware?: boolean;
  /** Celery's task_default_queue. Default "celery". Env: CELERY_TASK_DEFAULT_QUEUE. */
  taskDefaultQueue?: string;
  /** Celery's task_default_exchange. Default: the default queue's name. Env: CELERY_TASK_DEFAULT_EXCHANGE. */
  taskDefaultExchange?: string;
  /** Celery's task_default_exchange_type. Default "direct". Env: CELERY_TASK_DEFAULT_EXCHANGE_TYPE. */
  taskDefaultExchangeType?: string;
  /** Celery's task_default_routing_key. Default: the default queue's name. Env: CELERY_TASK_DEFAULT_ROUTING_KEY. */
  taskDefaultRoutingKey?: string;
  /**
   * Celery's task_routes: JSON text or parsed (an object of task name or glob ->
   * queue name or {queue, exchange, routing_key, exchange_type, priority}, or a list
   * of such objects). Env: CELERY_TASK_ROUTES (JSON).
   */
  taskRoutes?: string | RouteMap | RouteMap[];
  /** Celery's control_exchange: the pidbox workers answer remote control on. Default "celery". Env: CELERY_CONTROL_EXCHANGE. */
  controlExchange?: string;
  /** Runs sent per broker round trip. Default 5000. */
  batchSize?: number;
  /** Seconds the leader lease lasts without renewal. Default 5: a dead leader is replaced within about 6 s. */
  leaseSeconds?: number;
  /** Beats sharing this name elect one leader among them. Default "default". */
  leaseName?: string;
  /** Time to live of the Redis keys that suppress re-sends, in seconds. Default 7 days. */
  dedupeTtlSeconds?: number;
  /** Largest message sent, in bytes; a larger one fails alone (its task retries on its own). Default 16 MiB. */
  maxMessageSize?: number;
  /** Seconds between checks of dbbeat's own tables, triggers and functions. Default 300. */
  schemaCheckInterval?: number;
  /** Keep run history (dbbeat_run): one row per run sent or skipped. Default true. Env: DBBEAT_HISTORY. */
  history?: boolean;
  /** Days of run history kept. Default 14. Env: DBBEAT_HISTORY_DAYS. */
  historyDays?: number;
  /** Most rows of run history kept (the oldest go first). Default 1,000,000. Env: DBBEAT_HISTORY_MAX_ROWS. */
  historyMaxRows?: number;
  /**
   * Celery's result_backend, read for the outcome of runs that have none yet: redis://…,
   * rediss://…, db+postgresql://…, db+mysql://… (celery_taskmeta), postgres://…, mysql://…
   * or django-db (django-celery-results). Env: CELERY_RESULT_BACKEND. Default: none.
   */
  resultBackend?: string;
  /** Seconds between reads of the result backend. Default 5. Env: DBBEAT_RESULT_BACKEND_INTERVAL. */
  resultBackendInterval?: number;
  /**
   * K of the failing-task alert: a task is failing when its last K decided runs all failed
   * (or its last one is LOST). Default 3. Env: DBBEAT_FAILING_AFTER.
   */
  failingAfter?: number;
  /**
   * Consume Celery's task events (workers started with -E) into run history: each run's
   * state, times, worker, result and exception. Default false. Env: DBBEAT_EVENTS.
   */
  events?: boolean;
  /** Celery's event_exchange, where workers send events. Default "celeryev". Env: CELERY_EVENT_EXCHANGE. */
  eventExchange?: string;
  /**
   * Seconds after sending at which a run with no outcome yet becomes LOST; 0 turns this
   * off. Only while outcomes are collected (events, result backend). Default 3600. Env: DBBEAT_LOST_AFTER.
   */
  lostAfter?: number;
}

/** Settings with every default applied and every value checked. */
export interface ResolvedConfig {
  databaseUrl: string | undefined;
  dbTimeZone: string;
  dataDir: string;
  brokerUrl: string;
  maxIntervalMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  logFile: string | undefined;
  logFormat: 'text' | 'json';
  pidFile: string | undefined;
  migrate: boolean;
  startingDeadlineMs: number | null;
  catchUpWindowMs: number;
  timezone: string;
  /** The zone every crontab is read in (DJANGO_CELERY_BEAT_TZ_AWARE=False), or null: each row's own. */
  crontabTimezone: string | null;
  /** Where tasks go when their row names no queue: Celery's routing settings. */
  routing: RoutingSettings;
  /** Celery's control_exchange (remote control: the console's worker view). */
  controlExchange: string;
  batchSize: number;
  leaseSeconds: number;
  leaseName: string;
  holder: string;
  dedupeTtlSeconds: number;
  maxMessageBytes: number;
  schemaCheckIntervalMs: number;
  /** Run history settings: `enabled` false writes no dbbeat_run rows and prunes none. */
  history: HistorySettings;
  /** The result backend polled for outcomes (the leader only), or null. */
  resultBackend: ResultBackendSettings | null;
  /** K of the failing-task alert (see BeatOptions.failingAfter). */
  failingAfter: number;
  /** Celery task events: consumed by the leader when `enabled`, from `exchange` on the broker. */
  events: { enabled: boolean; exchange: string };
  /** A run with no outcome this long after it was sent becomes LOST, ms; null: never. */
  lostAfterMs: number | null;
}

/** A setting out of range; the CLI exits with code 2. */
export class OptionsError extends Error {
  override readonly name = 'OptionsError';
}

const LOG_LEVELS: Record<string, ResolvedConfig['logLevel']> = {
  debug: 'debug',
  info: 'info',
  warning: 'warn',
  warn: 'warn',
  error: 'error',
  critical: 'fatal',
  fatal: 'fatal',
};

function positive(name: string, value: number, { integer = false } = {}): number {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new OptionsError(`${name}: ${JSON.stringify(value)} must be a positive ${integer ? 'integer' : 'number'}`);
  }
  return value;
}

function logFormatOf(options: BeatOptions): ResolvedConfig['logFormat'] {
  const format = options.logFormat ?? (options.logFile === undefined && process.stdout.isTTY ? 'text' : 'json');
  if (format !== 'text' && format !== 'json') {
    throw new OptionsError(`log-format: ${JSON.stringify(format)} is not one of text, json`);
  }
  return format;
}

/**
 * Resolves settings once: given values (flags), then the environment (`DATABASE_URL`,
 * `DBBEAT_DB_TIMEZONE`, `DBBEAT_DATA_DIR`, `CELERY_BROKER_URL` or `BROKER_URL`, `CELERY_TIMEZONE`,
 * `DJANGO_CELERY_BEAT_TZ_AWARE`, `CELERY_TASK_DEFAULT_QUEUE` / `_EXCHANGE` /
 * `_EXCHANGE_TYPE` / `_ROUTING_KEY`, `CELERY_TASK_ROUTES`, `DBBEAT_HISTORY`,
 * `DBBEAT_HISTORY_DAYS`, `DBBEAT_HISTORY_MAX_ROWS`, `CELERY_RESULT_BACKEND`,
 * `DBBEAT_RESULT_BACKEND_INTERVAL`), then defaults.
 * An empty URL counts as not given.
 * @throws OptionsError naming the setting and its value when one is out of range.
 */
export function resolveConfig(options: BeatOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const level = (options.logLevel ?? 'INFO').toLowerCase();
  const logLevel = LOG_LEVELS[level];
  if (!logLevel) {
    throw new OptionsError(
      `loglevel: ${JSON.stringify(options.logLevel)} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL`,
    );
  }
  const deadline = options.startingDeadline ?? null;
  const databaseUrl = options.databaseUrl || env.DATABASE_URL || undefined;
  if (databaseUrl !== undefined && !/^(postgres(ql)?|mysql|mariadb):\/\//i.test(databaseUrl)) {
    throw new OptionsError(
      `database-url: "${redactUrl(databaseUrl)}" is not a supported kind; use postgres://, postgresql://, mysql:// or mariadb:// (or none, for the embedded database)`,
    );
  }
  const dbTimeZone = options.dbTimeZone || env.DBBEAT_DB_TIMEZONE || 'UTC';
  if (dbTimeZone !== 'UTC' && !IANAZone.isValidZone(dbTimeZone)) {
    throw new OptionsError(`db-timezone: "${dbTimeZone}" is not a known IANA time zone (e.g. UTC, Asia/Shanghai)`);
  }
  const timezone = options.timezone || env.CELERY_TIMEZONE || 'UTC';
  const problem = zoneProblem(timezone);
  if (problem !== null) throw new OptionsError(`timezone (CELERY_TIMEZONE): ${JSON.stringify(timezone)} ${problem}`);
  const tzAware =
    options.djangoTzAware ?? parseBoolean('DJANGO_CELERY_BEAT_TZ_AWARE', env.DJANGO_CELERY_BEAT_TZ_AWARE) ?? true;
  return {
    databaseUrl,
    dbTimeZone,
    dataDir: options.dataDir ?? env.DBBEAT_DATA_DIR ?? DEFAULT_DATA_DIR,
    brokerUrl: options.brokerUrl || env.CELERY_BROKER_URL || env.BROKER_URL || 'redis://127.0.0.1:6379/0',
    maxIntervalMs: positive('max-interval', options.maxInterval ?? 5) * 1000,
    logLevel,
    logFile: options.logFile,
    logFormat: logFormatOf(options),
    pidFile: options.pidFile,
    migrate: options.migrate ?? true,
    startingDeadlineMs: deadline === null ? null : positive('starting-deadline', deadline) * 1000,
    catchUpWindowMs:
      (options.catchUpWindow === 0 ? 0 : positive('catch-up-window', options.catchUpWindow ?? 15)) * 1000,
    timezone,
    crontabTimezone: tzAware ? null : timezone,
    routing: resolveRouting(options, env),
    controlExchange: options.controlExchange || env.CELERY_CONTROL_EXCHANGE || 'celery',
    batchSize: positive('batch-size', options.batchSize ?? 5000, { integer: true }),
    leaseSeconds: positive('lease-seconds', options.leaseSeconds ?? 5),
    leaseName: options.leaseName ?? 'default',
    holder: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    dedupeTtlSeconds: positive('dedupe-ttl', options.dedupeTtlSeconds ?? 7 * 24 * 3600, { integer: true }),
    maxMessageBytes: positive('max-message-size', options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_BYTES, {
      integer: true,
    }),
    schemaCheckIntervalMs: positive('schema-check-interval', options.schemaCheckInterval ?? 300) * 1000,
    history: {
      enabled: options.history ?? parseBoolean('DBBEAT_HISTORY', env.DBBEAT_HISTORY) ?? true,
      days: positive(
        'history-days (DBBEAT_HISTORY_DAYS)',
        options.historyDays ?? numberFrom(env.DBBEAT_HISTORY_DAYS) ?? 14,
      ),
      maxRows: positive(
        'history-max-rows (DBBEAT_HISTORY_MAX_ROWS)',
        options.historyMaxRows ?? numberFrom(env.DBBEAT_HISTORY_MAX_ROWS) ?? 1_000_000,
        {
          integer: true,
        },
      ),
    },
    events: {
      enabled: options.events ?? parseBoolean('DBBEAT_EVENTS', env.DBBEAT_EVENTS) ?? false,
      exchange: options.eventExchange || env.CELERY_EVENT_EXCHANGE || 'celeryev',
    },
    lostAfterMs: lostAfterMs(options.lostAfter ?? numberFrom(env.DBBEAT_LOST_AFTER) ?? 3600),
    resultBackend: resolveResultBackend(options, env, databaseUrl),
    failingAfter: positive(
      'failing-after (DBBEAT_FAILING_AFTER)',
      options.failingAfter ?? numberFrom(env.DBBEAT_FAILING_AFTER) ?? 3,
      { integer: true },
    ),
  };
}

/** The result backend setting, checked: a URL dbbeat cannot read is an OptionsError. */
function resolveResultBackend(
  options: BeatOptions,
  env: NodeJS.ProcessEnv,
  databaseUrl: string | undefined,
): ResolvedConfig['resultBackend'] {
  const url = options.resultBackend || env.CELERY_RESULT_BACKEND || undefined;
  if (url === undefined) return null;
  try {
    parseResultBackendUrl(url, databaseUrl);
  } catch (error) {
    if (error instanceof ResultBackendUrlError) throw new OptionsError(error.message, { cause: error });
    throw error;
  }
  const seconds = options.resultBackendInterval ?? numberFrom(env.DBBEAT_RESULT_BACKEND_INTERVAL) ?? 5;
  return { url, intervalMs: positive('result-backend-interval (DBBEAT_RESULT_BACKEND_INTERVAL)', seconds) * 1000 };
}

/** --lost-after in ms: 0 is off (null), otherwise a positive number of seconds. */
function lostAfterMs(seconds: number): number | null {
  if (seconds === 0) return null;
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new OptionsError(
      `lost-after (DBBEAT_LOST_AFTER): expected 0 or a positive number of seconds, got ${seconds}`,
    );
  return seconds * 1000;
}

/** A number from an environment variable; undefined when unset or empty (NaN is rejected by the range check). */
function numberFrom(text: string | undefined): number | undefined {
  return text === undefined || text.trim() === '' ? undefined : Number(text);
}

/** Python-style booleans as Django settings are written from the environment. */
function parseBoolean(name: string, text: string | undefined): boolean | undefined {
  if (text === undefined || text === '') return undefined;
  const lower = text.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(lower)) return true;
  if (['false', '0', 'no', 'off'].includes(lower)) return false;
  throw new OptionsError(`${name}: ${JSON.stringify(text)} is not a boolean (True or False)`);
}

/** Celery's routing settings, from options, then CELERY_TASK_* variables, then Celery's defaults. */
function resolveRouting(options: BeatOptions, env: NodeJS.ProcessEnv): RoutingSettings {
  const routesGiven = options.taskRoutes ?? (env.CELERY_TASK_ROUTES || undefined);
  let routes: RouteMap[] = [];
  try {
    if (typeof routesGiven === 'string')
      routes = parseTaskRoutes(routesGiven, options.taskRoutes === undefined ? 'CELERY_TASK_ROUTES' : 'task-routes');
    else if (routesGiven !== undefined) routes = parseTaskRoutes(JSON.stringify(routesGiven), 'taskRoutes');
  } catch (error) {
    throw new OptionsError((error as Error).message);
  }
  const exchangeType =
    options.taskDefaultExchangeType || env.CELERY_TASK_DEFAULT_EXCHANGE_TYPE || DEFAULT_ROUTING.defaultExchangeType;
  if (!['direct', 'topic', 'fanout'].includes(exchangeType)) {
    throw new OptionsError(
      `task-default-exchange-type (CELERY_TASK_DEFAULT_EXCHANGE_TYPE): ${JSON.stringify(exchangeType)} is not direct, topic or fanout`,
    );
  }
  return {
    defaultQueue: options.taskDefaultQueue || env.CELERY_TASK_DEFAULT_QUEUE || DEFAULT_ROUTING.defaultQueue,
    defaultExchange: options.taskDefaultExchange || env.CELERY_TASK_DEFAULT_EXCHANGE || null,
    defaultExchangeType: exchangeType,
    defaultRoutingKey: options.taskDefaultRoutingKey || env.CELERY_TASK_DEFAULT_ROUTING_KEY || null,
    routes,
  };
}
