// GET /api/workers: the live Celery workers, as remote control sees them (ping-style
// broadcast of `registered` and `active_queues`): hostname, the queues each consumes and
// the tasks each has registered. The answer is cached by the console for a few seconds.
import type { FastifyInstance } from 'fastify';

import type { ConsoleContext } from './context.js';

const workerSchema = {
  type: 'object',
  properties: {
    hostname: { type: 'string', example: 'celery@host' },
    queues: {
      type: 'array',
      description: 'what it consumes (inspect active_queues)',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          exchange: { type: 'string' },
          exchangeType: { type: 'string' },
          routingKey: { type: 'string' },
        },
      },
    },
    registeredCount: { type: 'integer', description: 'tasks it has registered, built-in celery.* included' },
    registered: { type: 'array', items: { type: 'string' } },
  },
};

export function registerWorkerRoutes(app: FastifyInstance, context: ConsoleContext): void {
  app.get(
    '/api/workers',
    {
      schema: {
        tags: ['workers'],
        summary: 'The live Celery workers: hostname, queues consumed, tasks registered',
        description:
          "Asked through Celery's remote control (the broker's pidbox, as `celery inspect` does), with a 1 s timeout; " +
          'the answer is reused for 5 s unless refresh=true. Workers started with remote control off do not answer.',
        querystring: {
          type: 'object',
          properties: {
            refresh: { type: 'boolean', description: 'ask the workers now instead of reusing the answer' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              checkedAt: { type: 'string', format: 'date-time', nullable: true },
              error: { type: 'string', nullable: true, description: 'why the broker could not be asked' },
              workers: { type: 'array', items: workerSchema },
            },
          },
        },
      },
    },
    async (request) => {
      if (context.workers === null)
        return { checkedAt: null, error: 'remote control is not configured for this console', workers: [] };
      const refresh = (request.query as { refresh?: string | boolean }).refresh;
      const snapshot = await context.workers.current({ refresh: refresh === true || refresh === 'true' });
      return {
        checkedAt: snapshot.at.toISOString(),
        error: snapshot.error,
        workers: snapshot.workers.map((worker) => ({
          hostname: worker.hostname,
          queues: worker.queues,
          registeredCount: worker.registered.length,
          registered: worker.registered,
        })),
      };
    },
  );
}
