// `dbbeat serve`: the console (web page and REST API) without a beat; and the part
// of `dbbeat beat --http` that serves it from the beat's own process.
import type { Command } from 'commander';
import pino, { type Logger } from 'pino';

import { checkBrokerAtStart } from '../beat/failures.js';
import { connectBroker } from '../broker/index.js';
import type { RoutingSettings } from '../broker/routing.js';
import { OptionsError, resolveConfig } from '../config.js';
import { HttpConfigError, type HttpAuth } from '../http/auth.js';
import { type ConsoleServer, type ConsoleServerOptions, startConsoleServer } from '../http/server.js';
import { migrate } from '../db/migrate.js';
import type { OpenDatabase } from '../db/open.js';
import { connectRemoteControl } from '../outcomes/remote-control.js';
import { WorkerDirectory } from '../outcomes/remote-control-workers.js';
import { failureOf, openCheckedDatabase, step } from './failure.js';
import { addHttpAuthOptions, type HttpFlags, resolveHttp } from './http-flags.js';

/**
 * Starts the console on an open database, with a broker connection of its own for "run now"
 * (routed by the same Celery settings as the beat's), and remote control on the same broker
 * for the worker view (asked at most every 5 s, 1 s timeout).
 */
export async function serveConsole(
  database: OpenDatabase,
  http: { host: string; port: number; auth: HttpAuth },
  settings: {
    brokerUrl: string;
    routing: RoutingSettings;
    timezone: string;
    controlExchange: string;
    /** Run history on: "run now" records its runs (manual). Default on. */
    history?: { enabled: boolean };
    /** K of the failing-task alert. */
    failingAfter?: number;
    /**
     * Ask the broker one PING before serving (`dbbeat serve`): refused credentials end the
     * start (PermanentFailure), a broker that is away is a warning. `dbbeat beat --http`
     * leaves this to the beat, which asks its own connection.
     */
    checkBroker?: boolean;
  },
  log: Logger,
  /** A beat's /metrics, /healthz and /readyz (`dbbeat beat --http`). */
  health?: ConsoleServerOptions['health'],
): Promise<ConsoleServer & { stop(): Promise<void> }> {
  const broker = await step('broker', settings.brokerUrl, () =>
    connectBroker(settings.brokerUrl, { logger: log, routing: settings.routing }),
  );
  if (settings.checkBroker === true) {
    try {
      await checkBrokerAtStart(broker, settings.brokerUrl, (message) => log.warn(message));
    } catch (error) {
      await broker.close().catch(() => undefined);
      throw error;
    }
  }
  const workers = new WorkerDirectory(
    await step('broker', settings.brokerUrl, () =>
      connectRemoteControl(settings.brokerUrl, { controlExchange: settings.controlExchange }),
    ),
  );
  const server = await startConsoleServer({
    database,
    broker,
    auth: http.auth,
    host: http.host,
    port: http.port,
    log,
    displayZone: settings.timezone,
    workers,
    routing: settings.routing,
    ...(settings.failingAfter !== undefined && { failingAfter: settings.failingAfter }),
    ...(settings.history?.enabled !== false && {
      manualRunHistory: { brokerUrl: settings.brokerUrl, routing: settings.routing },
    }),
    ...(health !== undefined && { health }),
  });
  return {
    ...server,
    async stop() {
      await server.close();
      await broker.close();
      await workers.close();
    },
  };
}

interface ServeFlags extends HttpFlags {
  databaseUrl?: string;
  dataDir?: string;
  broker?: string;
  loglevel?: string;
  migrate: boolean;
  failingAfter?: number;
}

/** `dbbeat serve`: registers the subcommand. */
export function registerServeCommand(program: Command): void {
  const command = program
    .command('serve')
    .description('serve the console: the web page at / and the REST API under /api/ (OpenAPI at /api/openapi.json)')
    .option('--http <host:port>', 'where to listen (default 127.0.0.1:8765; a non-loopback address needs credentials)')
    .option(
      '--database-url <url>',
      'postgres://, mysql:// or mariadb:// URL (env DATABASE_URL; default: embedded database in --data-dir)',
    )
    .option('--data-dir <path>', 'folder of the embedded database (default ./.dbbeat)')
    .option(
      '-b, --broker <url>',
      'broker for "run now" (env CELERY_BROKER_URL or BROKER_URL; default redis://127.0.0.1:6379/0)',
    )
    .option('-l, --loglevel <level>', 'DEBUG, INFO, WARNING, ERROR or CRITICAL (default INFO)')
    .option('--no-migrate', 'do not apply pending migrations on start')
    .option(
      '--failing-after <k>',
      'a task is failing when its last K runs failed (env DBBEAT_FAILING_AFTER; default 3)',
      (value: string) => Number(value),
    );
  addHttpAuthOptions(command).action(async (flags: ServeFlags) => {
    let http;
    let config;
    try {
      http = resolveHttp(flags, '127.0.0.1:8765');
      config = resolveConfig({
        databaseUrl: flags.databaseUrl,
        dataDir: flags.dataDir,
        brokerUrl: flags.broker,
        logLevel: flags.loglevel,
        failingAfter: flags.failingAfter,
      });
    } catch (error) {
      if (!(error instanceof HttpConfigError || error instanceof OptionsError)) throw error;
      console.error(`dbbeat serve: ${error.message}`);
      process.exit(2);
    }
    const level = config.logLevel;
    const log = pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
    let database: OpenDatabase | undefined;
    let server: Awaited<ReturnType<typeof serveConsole>> | undefined;
    // Listening from the start: a SIGTERM that comes while the console starts (or in the
    // moment after it logs that it listens) is a clean stop, not a kill by the signal.
    let stopping = false;
    const shutdown = () => {
      if (stopping) return;
      stopping = true;
      void (async () => {
        await server?.stop().catch(() => undefined);
        await database?.close().catch(() => undefined);
        process.exit(0);
      })();
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
    try {
      database = await openCheckedDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, serve: true });
      if (flags.migrate) await migrate(database, { log: (message) => log.info(message) });
      server = await serveConsole(database, http, { ...config, checkBroker: true }, log);
    } catch (error) {
      if (stopping) return; // a step failed because the stop closed what it used
      // A setting that can never work (no such database, refused credentials): 2, the setting named.
      const failure = failureOf(error, config.databaseUrl);
      console.error(`dbbeat serve: ${failure.message}`);
      await database?.close().catch(() => undefined);
      process.exit(failure.code);
    }
  });
}
