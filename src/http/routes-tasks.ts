// /api/tasks (the list: filters, search, sorting, pagination) and /api/tasks/:id (one
// task). The writes are in routes-task-writes.ts, run now in routes-task-run.ts.
import type { FastifyInstance } from 'fastify';

import { queryTaskRows } from '../model/task-rows.js';
import type { ValidationIssue } from '../model/validate.js';
import type { ConsoleContext } from './context.js';
import { idParam, unprocessable } from './replies.js';
import { errorSchema, idParams, issuesSchema, taskViewSchema } from './schemas.js';
import { SORT_COLUMNS, type SortKey, taskListStatements } from './sql.js';
import { taskViews } from './task-read.js';
import { withRegistrations } from './task-registration.js';
import { taskView } from './task-view.js';

const MAX_PAGE = 500;

const listQuery = {
  type: 'object',
  properties: {
    q: { type: 'string', description: 'text in the name or description (case-insensitive)' },
    enabled: { type: 'boolean' },
    kind: { type: 'string', enum: ['crontab', 'interval', 'solar', 'clocked'] },
    queue: { type: 'string', description: "exact queue name; '' for the default queue" },
    task: { type: 'string', description: 'exact Celery task name' },
    sort: { type: 'string', enum: Object.keys(SORT_COLUMNS), default: 'name' },
    order: { type: 'string', enum: ['asc', 'desc'], default: 'asc' },
    limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 50 },
    offset: { type: 'integer', minimum: 0, default: 0 },
  },
};

/** Registers GET /api/tasks and GET /api/tasks/:id. */
export function registerTaskRoutes(app: FastifyInstance, context: ConsoleContext): void {
  const { db } = context;
  const { withFailing, viewOf } = taskViews(context);

  app.get(
    '/api/tasks',
    {
      schema: {
        tags: ['tasks'],
        summary: 'List tasks: filters, search, sorting, pagination',
        querystring: listQuery,
        response: {
          200: {
            type: 'object',
            properties: {
              total: { type: 'integer' },
              limit: { type: 'integer' },
              offset: { type: 'integer' },
              items: { type: 'array', items: taskViewSchema },
            },
          },
          422: issuesSchema,
        },
      },
    },
    async (request, reply) => {
      const query = request.query as Record<string, string | undefined>;
      const issues: ValidationIssue[] = [];
      const enabled =
        query.enabled === undefined
          ? null
          : query.enabled === 'true'
            ? true
            : query.enabled === 'false'
              ? false
              : issue(issues, 'enabled', query.enabled, 'is not true or false');
      const kind = query.kind ?? null;
      if (kind !== null && !['crontab', 'interval', 'solar', 'clocked'].includes(kind))
        issue(issues, 'kind', kind, 'is not one of crontab, interval, solar, clocked');
      const sort = (query.sort ?? 'name') as SortKey;
      if (!(sort in SORT_COLUMNS)) issue(issues, 'sort', sort, `is not one of ${Object.keys(SORT_COLUMNS).join(', ')}`);
      const order = (query.order ?? 'asc').toLowerCase();
      if (order !== 'asc' && order !== 'desc') issue(issues, 'order', query.order, 'is not asc or desc');
      const limit = wholeNumber(issues, 'limit', query.limit, 50, 1, MAX_PAGE);
      const offset = wholeNumber(issues, 'offset', query.offset, 0, 0, Number.MAX_SAFE_INTEGER);
      if (issues.length > 0) return unprocessable(reply, issues);
      const filter = [enabled, kind, query.queue ?? null, query.task ?? null, query.q || null];
      const statements = taskListStatements(db);
      const [rows, count] = await Promise.all([
        queryTaskRows(
          db,
          statements.page(sort, order === 'asc' ? 'ASC' : 'DESC'),
          statements.pageParams(filter, limit, offset),
        ),
        db.query<{ total: number }>(statements.count, statements.countParams(filter)),
      ]);
      const now = context.now();
      return {
        total: Number(count[0]?.total ?? 0),
        limit,
        offset,
        items: await withFailing(
          await withRegistrations(
            context,
            rows.map((row) => taskView(row, now, context.displayZone)),
          ),
        ),
      };
    },
  );

  app.get(
    '/api/tasks/:id',
    {
      schema: {
        tags: ['tasks'],
        summary: 'One task',
        params: idParams,
        response: { 200: taskViewSchema, 404: errorSchema },
      },
    },
    async (request, reply) => {
      const id = idParam(request.params);
      const view = id === undefined ? undefined : await viewOf(id);
      if (view === undefined)
        return reply.code(404).send({ error: `task ${(request.params as { id: string }).id} does not exist` });
      return (await withRegistrations(context, [view]))[0];
    },
  );
}

function issue(issues: ValidationIssue[], field: string, value: unknown, reason: string): null {
  issues.push({ field, value, message: `${field}: ${JSON.stringify(value)} ${reason}` });
  return null;
}

function wholeNumber(
  issues: ValidationIssue[],
  field: string,
  text: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max)
    issue(issues, field, text, `is not a whole number from ${min} to ${max}`);
  return value;
}
