// /api/tasks: list, read, create, edit, delete, run now, and bulk actions.
// Writes go through src/model/task-edit.ts (the checks and schedule rows of
// `schedule()`), are logged with who made them and what changed, and an edit
// that names an old version gets 409.
import type { FastifyInstance, FastifyReply } from 'fastify';

import { InvalidTaskError, manualRunEntry, manualRunMessage, recordManualRun } from '../beat/run-now.js';
import {
  TaskNotFoundError,
  type TaskWrite,
  VersionConflictError,
  createTask,
  deleteTasks,
  setTasksEnabled,
  updateTask,
} from '../model/task-edit.js';
import { queryTaskRows } from '../model/task-rows.js';
import { consoleStatements } from '../db/console-statements.js';
import { ValidationError, type ValidationIssue } from '../model/validate.js';
import { SORT_COLUMNS, type SortKey, taskListStatements } from './sql.js';
import { errorSchema, idParams, issuesSchema, taskInputSchema, taskViewSchema, writeErrors } from './schemas.js';
import type { ConsoleContext } from './context.js';
import { type JsonBody, idsOf, taskInputOf } from './task-input.js';
import { withRegistrations } from './task-registration.js';
import { type TaskView, taskView } from './task-view.js';
import { failingJson } from '../outcomes/run-view.js';

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

export function registerTaskRoutes(app: FastifyInstance, context: ConsoleContext): void {
  const { db, prisma, log } = context;
  const { TASK_BY_ID } = consoleStatements(db);

  // A task's view with whether it is failing (null: not failing; see src/outcomes/failing.ts).
  const withFailing = async (views: TaskView[]) => {
    const failing = await context.failing.of(views.map((view) => view.id));
    return views.map((view) => {
      const entry = failing.get(view.id);
      return { ...view, failing: entry === undefined ? null : failingJson(entry) };
    });
  };
  const viewOf = async (id: number) => {
    const [row] = await queryTaskRows(db, TASK_BY_ID, [id]);
    return row === undefined ? undefined : (await withFailing([taskView(row, context.now(), context.displayZone)]))[0];
  };

  // The audit log: one line per write, naming who, what and each change.
  const audit = (who: string, action: string, writes: TaskWrite[]) => {
    for (const write of writes) {
      log.info(
        { who, action, task: { id: write.id, name: write.name }, changes: write.changes },
        `console: ${who} ${action} task ${JSON.stringify(write.name)}`,
      );
    }
  };

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

  app.post(
    '/api/tasks',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Create a task (the fields of schedule())',
        body: taskInputSchema,
        response: { 201: taskViewSchema, ...writeErrors },
      },
    },
    async (request, reply) => {
      const parsed = taskInputOf(bodyOf(request.body));
      if (!parsed.ok) return unprocessable(reply, parsed.issues);
      return writing(reply, async () => {
        const write = await createTask(prisma, parsed.input);
        audit(request.principal!.who, 'created', [write]);
        return reply.code(201).send(await viewOf(write.id));
      });
    },
  );

  app.patch(
    '/api/tasks/:id',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Edit a task; needs its version (If-Match or body.version)',
        params: idParams,
        body: taskInputSchema,
        response: { 200: taskViewSchema, 428: errorSchema, ...writeErrors },
      },
    },
    async (request, reply) => {
      const id = idParam(request.params);
      if (id === undefined) return reply.code(404).send({ error: 'no such task' });
      const body = bodyOf(request.body);
      const version = versionOf(request.headers['if-match'], body);
      if (version === undefined) {
        return reply.code(428).send({
          error:
            'send the version you edited (If-Match header or "version" field), so that nobody else\'s edit is overwritten',
        });
      }
      const parsed = taskInputOf(body);
      if (!parsed.ok) return unprocessable(reply, parsed.issues);
      return writing(reply, async () => {
        const write = await updateTask(prisma, id, parsed.input, version);
        audit(request.principal!.who, 'updated', [write]);
        return viewOf(id);
      });
    },
  );

  app.delete(
    '/api/tasks/:id',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Delete a task (If-Match optional)',
        params: idParams,
        response: { 200: errorSchema, ...writeErrors },
      },
    },
    async (request, reply) => {
      const id = idParam(request.params);
      if (id === undefined) return reply.code(404).send({ error: 'no such task' });
      return writing(reply, async () => {
        const deleted = await deleteTasks(prisma, [id], versionOf(request.headers['if-match'], undefined));
        if (deleted.length === 0) return reply.code(404).send({ error: `task ${id} does not exist` });
        audit(request.principal!.who, 'deleted', deleted);
        return { deleted: deleted.map(({ id: taskId, name }) => ({ id: taskId, name })) };
      });
    },
  );

  app.post(
    '/api/tasks/:id/run',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Run now: send one message as the beat would (marked manual); the schedule is not changed',
        params: idParams,
        response: { 200: { type: 'object', properties: { taskId: { type: 'string' } } }, ...writeErrors },
      },
    },
    async (request, reply) => {
      const id = idParam(request.params);
      const [row] = id === undefined ? [] : await queryTaskRows(db, TASK_BY_ID, [id]);
      if (row === undefined) return reply.code(404).send({ error: 'no such task' });
      const who = request.principal!.who;
      let message;
      try {
        message = manualRunMessage(row, context.now(), who);
      } catch (error) {
        if (error instanceof InvalidTaskError)
          return unprocessable(reply, [{ field: 'task', value: row.name, message: error.message }]);
        throw error;
      }
      const [outcome] = await context.broker.publish([message]);
      if (outcome?.status === 'failed') {
        log.error(
          { who, task: { id: row.id, name: row.name }, err: { message: outcome.error.message } },
          'console: run now failed',
        );
        return reply.code(502).send({ error: `the broker refused the message: ${outcome.error.message}` });
      }
      log.info(
        { who, action: 'ran', task: { id: row.id, name: row.name }, taskId: message.id },
        `console: ${who} ran task ${JSON.stringify(row.name)} now`,
      );
      const history = context.manualRunHistory;
      if (history !== null) {
        // Sent either way: a history row that cannot be written is logged, not an error.
        const entry = manualRunEntry(row, message, context.now().getTime(), history.broker, history.routing);
        await recordManualRun(context.runs, entry).catch((error: unknown) =>
          log.warn(
            { task: { id: row.id, name: row.name }, taskId: message.id, err: { message: (error as Error).message } },
            'console: run now was sent, but its run-history row could not be written',
          ),
        );
      }
      return { taskId: message.id };
    },
  );

  app.post(
    '/api/tasks/bulk',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Enable, disable or delete several tasks',
        body: {
          type: 'object',
          required: ['action', 'ids'],
          properties: {
            action: { type: 'string', enum: ['enable', 'disable', 'delete'] },
            ids: { type: 'array', items: { type: 'integer' } },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              changed: {
                type: 'array',
                items: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } } },
              },
            },
          },
          ...writeErrors,
        },
      },
    },
    async (request, reply) => {
      const body = bodyOf(request.body).value as Record<string, unknown> | undefined;
      const action = body?.action;
      if (action !== 'enable' && action !== 'disable' && action !== 'delete') {
        return unprocessable(reply, [
          {
            field: 'action',
            value: action,
            message: `action: ${JSON.stringify(action)} is not one of enable, disable, delete`,
          },
        ]);
      }
      const ids = idsOf(body?.ids);
      if (!ids.ok) return unprocessable(reply, ids.issues);
      const writes =
        action === 'delete'
          ? await deleteTasks(prisma, ids.ids)
          : await setTasksEnabled(prisma, ids.ids, action === 'enable');
      audit(request.principal!.who, action === 'delete' ? 'deleted' : `${action}d`, writes);
      return { changed: writes.map(({ id, name }) => ({ id, name })) };
    },
  );
}

/** Runs a write and turns its known errors into answers: 404, 409, 422. */
export async function writing(reply: FastifyReply, work: () => Promise<unknown>): Promise<unknown> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ValidationError) return unprocessable(reply, error.issues);
    if (error instanceof TaskNotFoundError) return reply.code(404).send({ error: error.message });
    if (error instanceof VersionConflictError)
      return reply.code(409).send({ error: error.message, currentVersion: error.current });
    throw error;
  }
}

export function unprocessable(reply: FastifyReply, issues: ValidationIssue[]): FastifyReply {
  return reply
    .code(422)
    .send({ error: issues.map((each) => each.message).join('; '), issues: issues.map(jsonSafeIssue) });
}

// Dates and other values as JSON shows them.
function jsonSafeIssue(each: ValidationIssue): ValidationIssue {
  const value =
    each.value instanceof Date
      ? Number.isNaN(each.value.getTime())
        ? 'Invalid Date'
        : each.value.toISOString()
      : each.value;
  return { ...each, value: value === undefined ? null : value };
}

function bodyOf(body: unknown): JsonBody {
  return (body as JsonBody | undefined) ?? { value: undefined, raw: new Map() };
}

function versionOf(ifMatch: string | undefined, body: JsonBody | undefined): string | undefined {
  if (ifMatch !== undefined && ifMatch !== '') return ifMatch.replace(/^W\//, '').replace(/^"|"$/g, '');
  const value = body?.value as Record<string, unknown> | undefined;
  return typeof value?.version === 'string' ? value.version : undefined;
}

function idParam(params: unknown): number | undefined {
  const text = (params as { id?: string }).id ?? '';
  return /^\d{1,9}$/.test(text) ? Number(text) : undefined;
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
