// The console's HTTP server: the REST API under /api/, its OpenAPI document, and the
// web page at /. Served by `dbbeat serve`, or by a beat started with --http.
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

import { DEFAULT_ROUTING, type RoutingSettings } from '../broker/routing.js';
import type { Broker } from '../broker/types.js';
import { createBaseClient } from '../model/client.js';
import type { WorkerDirectory } from '../outcomes/remote-control-workers.js';
import { type OpenDatabase, runStoreFor } from '../db/open.js';
import { DEFAULT_FAILING_AFTER, FailingCheck, gaugeFailingTasks } from '../outcomes/failing.js';
import { redactUrl } from '../redact-url.js';
import { Authenticator, CSRF_HEADER, type HttpAuth, type Principal, checkBindAddress, isLoopback } from './auth.js';
import { rawMembers } from './raw-json.js';
import { HEALTH_PATHS, type HealthSource, registerHealthRoutes } from './routes-health.js';
import { registerSessionRoutes } from './routes-session.js';
import { registerOtherRoutes } from './routes-other.js';
import { registerRunRoutes } from './routes-runs.js';
import { registerTaskRunRoute } from './routes-task-run.js';
import { registerTaskWriteRoutes } from './routes-task-writes.js';
import { registerTaskRoutes } from './routes-tasks.js';
import { registerWorkerRoutes } from './routes-workers.js';
import { registerWebPage } from './web-assets.js';
import type { ConsoleContext } from './context.js';

export type { ConsoleContext } from './context.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who made the request (set for every /api/ route but the public ones). */
    principal: Principal | null;
  }
}

export interface ConsoleServerOptions {
  database: Pick<OpenDatabase, 'kind' | 'query' | 'prismaAdapter'>;
  broker: Broker;
  auth: HttpAuth;
  host: string;
  port: number;
  /** Receives the audit log (every write: who, what, the changes) and errors. */
  log: Logger;
  /** Zone that interval, solar and clocked runs are shown in (CELERY_TIMEZONE). Default UTC. */
  displayZone?: string;
  /** The clock (tests). Default: Date. */
  now?: () => Date;
  /** The live workers, for GET /api/workers and the tasks' `registration`. Default: none (`unknown`). */
  workers?: WorkerDirectory;
  /** Celery's routing settings (task_routes, defaults). Default: Celery's defaults. */
  routing?: RoutingSettings;
  /** K of the failing-task alert (--failing-after). Default 3. */
  failingAfter?: number;
  /**
   * "Run now" writes a run-history row (manual, no slot) with this broker URL (its password
   * is removed) and routing (for the queue). Absent: no row (history is off).
   */
  manualRunHistory?: { brokerUrl: string; routing?: RoutingSettings };
  /**
   * A beat's /metrics, /healthz and /readyz (`dbbeat beat --http`). /healthz and /readyz
   * answer anyone; /metrics takes the API's credentials, unless `metricsPublic`.
   */
  health?: HealthSource & { metricsPublic?: boolean };
}

export interface ConsoleServer {
  /** http://host:port */
  readonly url: string;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** Paths under /api/ that answer without credentials. */
const PUBLIC_PATHS = new Set(['/api/openapi.json', '/api/session']);
const WRITE_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

/**
 * Builds the server (not listening): for tests with `app.inject`, and for startConsoleServer.
 * @throws HttpConfigError when `host` is not loopback and no credentials are configured
 */
export async function buildConsoleServer(
  options: ConsoleServerOptions,
): Promise<{ app: FastifyInstance; context: ConsoleContext }> {
  checkBindAddress(options.host, options.auth);
  const runs = runStoreFor(options.database);
  const context: ConsoleContext = {
    db: options.database,
    prisma: createBaseClient(options.database),
    broker: options.broker,
    log: options.log.child({ component: 'console' }),
    displayZone: options.displayZone ?? 'UTC',
    now: options.now ?? (() => new Date()),
    authenticator: new Authenticator(options.auth),
    workers: options.workers ?? null,
    routing: options.routing ?? DEFAULT_ROUTING,
    runs,
    failing: new FailingCheck(runs, {
      lastK: options.failingAfter ?? DEFAULT_FAILING_AFTER,
      now: () => (options.now ?? (() => new Date()))().getTime(),
    }),
    manualRunHistory:
      options.manualRunHistory === undefined
        ? null
        : {
            broker: redactUrl(options.manualRunHistory.brokerUrl),
            routing: options.manualRunHistory.routing ?? DEFAULT_ROUTING,
          },
  };
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, trustProxy: false });
  // Our own code checks every request (see schemas.ts), and answers are plain JSON.stringify.
  app.setValidatorCompiler(() => (data: unknown) => ({ value: data }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, { value: undefined, raw: new Map() });
    try {
      const value: unknown = JSON.parse(text);
      done(null, { value, raw: rawMembers(text) });
    } catch (error) {
      done(
        Object.assign(new Error(`the body is not JSON: ${(error as Error).message}`), { statusCode: 400 }),
        undefined,
      );
    }
  });
  app.decorateRequest('principal', null);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'dbbeat console API',
        version: '1',
        description:
          "Periodic tasks in django-celery-beat's tables. Writes take the fields of the Prisma extension's schedule() and its validation; " +
          'errors are 422 with the field and value named. Authenticate with `Authorization: Bearer <token>` or basic auth; ' +
          'the web page uses a session cookie and sends its CSRF token in X-CSRF-Token.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          basic: { type: 'http', scheme: 'basic' },
        },
      },
      security: [{ bearer: [] }, { basic: [] }],
    },
  });

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?', 1)[0]!;
    setSecurityHeaders(reply);
    if (!options.auth.required && !isLoopback(hostOf(request))) {
      // No credentials: only this machine may talk to us, by a loopback name (no DNS rebinding).
      return deny(
        reply,
        403,
        'this console has no credentials configured and answers only requests to a loopback address',
      );
    }
    const metricsNeedCredentials = path === HEALTH_PATHS.metrics && options.health?.metricsPublic !== true;
    if (!path.startsWith('/api/') && !metricsNeedCredentials) return;
    if (WRITE_METHODS.has(request.method) && isCrossSite(request)) {
      return deny(reply, 403, 'cross-site request refused');
    }
    if (PUBLIC_PATHS.has(path)) return;
    const fromHeader = context.authenticator.fromAuthorization(request.headers.authorization);
    if (fromHeader === null) return deny(reply, 401, 'wrong credentials');
    const principal = fromHeader ?? context.authenticator.fromCookie(request.headers.cookie);
    if (principal === undefined) {
      if (options.auth.required)
        return deny(reply, 401, 'log in: send Authorization: Bearer <token> or basic auth, or POST /api/session');
      // No credentials configured: loopback callers are "local"; writes still need a session's CSRF token.
      request.principal = { who: 'local', via: 'session' };
    } else {
      request.principal = principal;
    }
    if (WRITE_METHODS.has(request.method) && request.principal.via === 'session') {
      const given = request.headers[CSRF_HEADER];
      const expected = request.principal.csrf;
      if (expected === undefined || typeof given !== 'string' || given !== expected) {
        return deny(
          reply,
          403,
          'missing or wrong X-CSRF-Token: log in with POST /api/session (body {} when no credentials are configured), keep its cookie and send its csrfToken in X-CSRF-Token',
        );
      }
    }
  });

  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500)
      context.log.error(
        { err: { message: error.message, type: error.name }, url: request.url },
        'console: request failed',
      );
    void reply.code(status).send({ error: status >= 500 ? 'internal error (see the server log)' : error.message });
  });

  app.get('/api/openapi.json', { schema: { hide: true } }, () => Promise.resolve(app.swagger()));
  registerSessionRoutes(app, context);
  registerTaskRoutes(app, context);
  registerTaskWriteRoutes(app, context);
  registerTaskRunRoute(app, context);
  registerOtherRoutes(app, context);
  registerWorkerRoutes(app, context);
  registerRunRoutes(app, context);
  if (options.health) {
    // dbbeat_tasks_failing is counted at each scrape, through the same cached check as the API.
    gaugeFailingTasks(options.health.metrics, context.failing);
    registerHealthRoutes(app, options.health);
  }
  registerWebPage(app);
  return { app, context };
}

/**
 * Starts the console on host:port and returns where it listens.
 * @throws HttpConfigError (a non-loopback host without credentials), or the listen error (port in use)
 */
export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const { app, context } = await buildConsoleServer(options);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}`;
  context.log.info(
    { url, auth: options.auth.required ? 'required' : 'none (loopback only)' },
    `console listening on ${url}`,
  );
  return {
    url,
    app,
    async close() {
      await app.close();
      await context.prisma.$disconnect();
    },
  };
}

function deny(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).send({ error: message });
}

function hostOf(request: FastifyRequest): string {
  const host = request.headers.host ?? '';
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
}

// A write whose Origin (or Sec-Fetch-Site) says another site sent it.
function isCrossSite(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = request.headers.origin;
  if (origin === undefined || origin === 'null') return origin === 'null';
  try {
    const origin_ = new URL(origin);
    // Compared as URLs, so a default port written out (":80") still matches.
    return origin_.host !== new URL(`${origin_.protocol}//${request.headers.host ?? ''}`).host;
  } catch {
    return true;
  }
}

function setSecurityHeaders(reply: FastifyReply): void {
  reply.header('X-Content-Type-Options', 'nosniff');
  reply.header('X-Frame-Options', 'DENY');
  reply.header('Referrer-Policy', 'no-referrer');
  reply.header(
    'Content-Security-Policy',
    "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'",
  );
}
