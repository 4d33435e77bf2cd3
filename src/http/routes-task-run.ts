// POST /api/tasks/:id/run: run now. One message as the beat would send it (marked manual,
// with who asked), published on the console's broker; the schedule is not changed. Its
// run-history row is written when history is on; a row that cannot be written is logged.
import type { FastifyInstance } from 'fastify';

import { InvalidTaskError, manualRunEntry, manualRunMessage, recordManualRun } from '../beat/run-now.js';
import { consoleStatements } from '../db/console-statements.js';
import { queryTaskRows } from '../model/task-rows.js';
import type { ConsoleContext } from './context.js';
import { idParam, unprocessable } from './replies.js';
import { idParams, writeErrors } from './schemas.js';

/** Registers POST /api/tasks/:id/run. */
export function registerTaskRunRoute(app: FastifyInstance, context: ConsoleContext): void {
  const { db, log } = context;
  const { TASK_BY_ID } = consoleStatements(db);

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
}
