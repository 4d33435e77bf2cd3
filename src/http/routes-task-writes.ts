// /api/tasks writes: create, edit (with the version edited: 409 when it is old), delete, and
// the bulk enable/disable/delete. Writes go through src/model/task-edit.ts (the checks and
// schedule rows of `schedule()`) and are logged with who made them and what changed.
import type { FastifyInstance } from 'fastify';

import { type TaskWrite, createTask, deleteTasks, setTasksEnabled, updateTask } from '../model/task-edit.js';
import type { ConsoleContext } from './context.js';
import { bodyOf, idParam, unprocessable, versionOf, writing } from './replies.js';
import { errorSchema, idParams, taskInputSchema, taskViewSchema, writeErrors } from './schemas.js';
import { idsOf, taskInputOf } from './task-input.js';
import { taskViews } from './task-read.js';

/** Registers POST, PATCH and DELETE of /api/tasks and POST /api/tasks/bulk. */
export function registerTaskWriteRoutes(app: FastifyInstance, context: ConsoleContext): void {
  const { prisma, log } = context;
  const { viewOf } = taskViews(context);

  // The audit log: one line per write, naming who, what and each change.
  const audit = (who: string, action: string, writes: TaskWrite[]) => {
    for (const write of writes) {
      log.info(
        { who, action, task: { id: write.id, name: write.name }, changes: write.changes },
        `console: ${who} ${action} task ${JSON.stringify(write.name)}`,
      );
    }
  };

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
