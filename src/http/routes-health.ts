// GET /metrics (Prometheus text format), /healthz (the process is alive) and /readyz (the
// beat leads or stands by behind a live lease, and its broker and database answer).
// Served by `dbbeat beat --http`; the server decides who may ask (src/http/server.ts:
// /healthz and /readyz are public, /metrics takes the console's credentials unless
// --metrics-public).
import type { FastifyInstance } from 'fastify';

import type { Metrics } from '../outcomes/metrics.js';

/** What the health routes read: given by the beat (src/beat/health.ts, src/outcomes/metrics.ts). */
export interface HealthSource {
  /** The beat's metrics: served as text; the server adds its own scrape hooks (failing tasks). */
  metrics: Pick<Metrics, 'contentType' | 'text' | 'beforeScrape' | 'failingTasks'>;
  /** Checks readiness now; the answer is sent as the JSON body. Must not reject. */
  readiness(): Promise<{ ready: boolean }>;
}

/** Paths of these routes, for the server's access rules. */
export const HEALTH_PATHS = { metrics: '/metrics', healthz: '/healthz', readyz: '/readyz' } as const;

export function registerHealthRoutes(app: FastifyInstance, source: HealthSource): void {
  app.get(HEALTH_PATHS.metrics, { schema: { hide: true } }, async (_request, reply) => {
    const text = await source.metrics.text();
    return reply.header('Cache-Control', 'no-store').type(source.metrics.contentType).send(text);
  });

  // Alive while the event loop runs: nothing else is asked, so it answers even when the
  // database and broker are down (restarting the process would not mend those).
  app.get(HEALTH_PATHS.healthz, { schema: { hide: true } }, (_request, reply) =>
    reply.header('Cache-Control', 'no-store').send({ status: 'ok' }),
  );

  app.get(HEALTH_PATHS.readyz, { schema: { hide: true } }, async (_request, reply) => {
    const readiness = await source.readiness();
    return reply
      .header('Cache-Control', 'no-store')
      .code(readiness.ready ? 200 : 503)
      .send(readiness);
  });
}
