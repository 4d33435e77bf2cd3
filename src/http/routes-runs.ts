// Run history over HTTP: /api/runs (the filters of `dbbeat runs`, keyset pages),
// /api/tasks/{id}/runs (one task's runs and whether it is failing) and /api/failing (every
// failing task: alerts as data).
import type { FastifyInstance, FastifyReply } from 'fastify';

import type { RunFilter } from '../db/run-store.js';
import {
  RunFilterError,
  type RunQueryText,
  failingJson,
  runFilterOf,
  runJson,
  withTaskId,
} from '../outcomes/run-view.js';
import type { ConsoleContext } from './context.js';
import { unprocessable } from './replies.js';
import { failingSchema, idParams, issuesSchema, runPageSchema, runsQuerySchema } from './schemas.js';

export function registerRunRoutes(app: FastifyInstance, context: ConsoleContext): void {
  const { runs, failing } = context;

  // The page of runs `filter` selects, or a 422 naming the bad filter.
  const page = async (reply: FastifyReply, text: RunQueryText, fixed: Partial<RunFilter> = {}) => {
    let filter: RunFilter;
    try {
      filter = { ...runFilterOf(text, context.now().getTime()), ...fixed };
    } catch (error) {
      if (!(error instanceof RunFilterError)) throw error;
      return { error: unprocessable(reply, [{ field: error.field, value: error.value, message: error.message }]) };
    }
    const items = await runs.listRuns(await withTaskId(runs, filter));
    return {
      items: items.map(runJson),
      // Ask again with before=nextBefore for the next page; null: this was the last.
      nextBefore: items.length === filter.limit ? items.at(-1)!.id : null,
    };
  };

  app.get(
    '/api/runs',
    {
      schema: {
        tags: ['runs'],
        summary: 'Run history, newest first: filter by task name, state and time; page with before',
        querystring: {
          ...runsQuerySchema,
          properties: {
            task: { type: 'string', description: "the periodic task's name (also a deleted task's)" },
            ...runsQuerySchema.properties,
          },
        },
        response: { 200: runPageSchema, 422: issuesSchema },
      },
    },
    async (request, reply) => {
      const query = request.query as Record<string, string | undefined>;
      const answer = await page(reply, { ...textOf(query), ...(query.task !== undefined && { name: query.task }) });
      return 'error' in answer ? answer.error : answer;
    },
  );

  app.get(
    '/api/tasks/:id/runs',
    {
      schema: {
        tags: ['runs'],
        summary: "One task's runs, newest slot first, and whether it is failing",
        params: idParams,
        querystring: runsQuerySchema,
        response: {
          200: {
            ...runPageSchema,
            properties: {
              ...runPageSchema.properties,
              failing: { ...failingSchema.items, nullable: true, description: 'null: not failing' },
              failingAfter: { type: 'integer', description: 'K: failing after K failed runs in a row' },
            },
          },
          404: { type: 'object', properties: { error: { type: 'string' } } },
          422: issuesSchema,
        },
      },
    },
    async (request, reply) => {
      const idText = (request.params as { id: string }).id;
      if (!/^\d{1,9}$/.test(idText)) return reply.code(404).send({ error: `task ${idText} does not exist` });
      const id = Number(idText);
      const answer = await page(reply, textOf(request.query as Record<string, string | undefined>), {
        periodicTaskId: id,
      });
      if ('error' in answer) return answer.error;
      const failingTask = (await failing.of([id])).get(id);
      return {
        ...answer,
        failing: failingTask === undefined ? null : failingJson(failingTask),
        failingAfter: failing.lastK,
      };
    },
  );

  app.get(
    '/api/failing',
    {
      schema: {
        tags: ['runs'],
        summary:
          'Failing tasks: enabled tasks whose last K decided runs all failed, or whose last run was LOST (K: --failing-after)',
        response: {
          200: {
            type: 'object',
            properties: { failingAfter: { type: 'integer' }, items: failingSchema },
          },
        },
      },
    },
    async () => ({ failingAfter: failing.lastK, items: (await failing.all()).map(failingJson) }),
  );
}

function textOf(query: Record<string, string | undefined>): RunQueryText {
  return {
    ...(query.state !== undefined && { state: query.state }),
    ...(query.since !== undefined && { since: query.since }),
    ...(query.limit !== undefined && { limit: query.limit }),
    ...(query.before !== undefined && { before: query.before }),
  };
}
