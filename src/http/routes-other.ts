// /api/preview (next runs of an unsaved schedule), /api/schedules (the schedule rows
// and the tasks that use each) and /api/beats (which beat leads).
import type { FastifyInstance } from 'fastify';

import { consoleStatements } from '../db/console-statements.js';
import { queryRows } from '../model/task-rows.js';
import { SCHEDULE_KINDS, type ScheduleKindName } from '../model/validate.js';
import { previewOf } from './preview.js';
import { unprocessable } from './replies.js';
import { errorSchema, issuesSchema } from './schemas.js';
import type { ConsoleContext } from './context.js';
import { runTime } from './task-view.js';

type Task = { id: number; name: string };

const isKind = (kind: string): kind is ScheduleKindName => (SCHEDULE_KINDS as readonly string[]).includes(kind);

export function registerOtherRoutes(app: FastifyInstance, context: ConsoleContext): void {
  const { db, log } = context;
  const statements = consoleStatements(db);

  app.get(
    '/api/preview',
    {
      schema: {
        tags: ['schedules'],
        summary: 'The next runs of an unsaved schedule, with the runs daylight saving time moved marked',
        querystring: {
          type: 'object',
          required: ['kind'],
          properties: {
            kind: { type: 'string', enum: ['crontab', 'interval', 'solar', 'clocked'] },
            minute: { type: 'string' },
            hour: { type: 'string' },
            dayOfWeek: { type: 'string' },
            dayOfMonth: { type: 'string' },
            monthOfYear: { type: 'string' },
            timezone: { type: 'string' },
            every: { type: 'integer' },
            period: { type: 'string' },
            event: { type: 'string' },
            latitude: { type: 'number' },
            longitude: { type: 'number' },
            clockedTime: { type: 'string', format: 'date-time' },
            count: { type: 'integer', minimum: 1, maximum: 100, default: 5 },
            after: { type: 'string', format: 'date-time' },
            zone: { type: 'string', description: 'zone to show non-crontab runs in' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              schedule: { type: 'string' },
              runs: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    utc: { type: 'string' },
                    local: { type: 'string' },
                    zone: { type: 'string' },
                    dstMove: { type: 'string', nullable: true, enum: ['gap', 'second-pass', null] },
                    overdue: {
                      type: 'boolean',
                      description:
                        'its time is at or before `after` (a clocked time that has passed): the beat sends it at once',
                    },
                  },
                },
              },
            },
          },
          422: issuesSchema,
        },
      },
    },
    async (request, reply) => {
      const result = previewOf(request.query as Record<string, string | undefined>, context.now(), context.displayZone);
      return result.ok ? result.preview : unprocessable(reply, result.issues);
    },
  );

  app.get(
    '/api/schedules',
    { schema: { tags: ['schedules'], summary: 'Every schedule row of each kind, with the tasks that use it' } },
    async () => {
      const answer: Record<string, unknown[]> = {};
      for (const kind of SCHEDULE_KINDS) {
        const rows = await queryRows(db, statements.SCHEDULES[kind], [], ['clocked_time']);
        const users = new Map<number, Task[]>();
        for (const row of await db.query<Task & { schedule_id: number }>(statements.SCHEDULE_TASKS[kind])) {
          const list = users.get(Number(row.schedule_id)) ?? [];
          list.push({ id: Number(row.id), name: row.name });
          users.set(Number(row.schedule_id), list);
        }
        answer[kind] = rows.map((row) => ({
          ...row,
          ...(kind === 'clocked' && { clocked_time: new Date(row.clocked_time as number).toISOString() }),
          tasks: users.get(Number(row.id)) ?? [],
        }));
      }
      return answer;
    },
  );

  app.delete(
    '/api/schedules/:kind/:id',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Delete a schedule row that no task uses (409 names the tasks that do)',
        params: {
          type: 'object',
          properties: { kind: { type: 'string', enum: [...SCHEDULE_KINDS] }, id: { type: 'integer' } },
        },
        response: { 204: { type: 'null' }, 404: errorSchema, 409: errorSchema },
      },
    },
    async (request, reply) => {
      const { kind, id: idText } = request.params as { kind: string; id: string };
      const id = Number(idText);
      if (!isKind(kind) || !/^\d{1,9}$/.test(idText))
        return reply.code(404).send({ error: `no ${kind} schedule ${idText}` });
      const users = await db.query<Task>(statements.SCHEDULE_USERS[kind], [id]);
      if (users.length > 0) {
        return reply.code(409).send({
          error:
            `${kind} schedule ${id} is used by ${users.length} task(s): ${users
              .slice(0, 10)
              .map((task) => JSON.stringify(task.name))
              .join(', ')}; ` + 'give them another schedule or delete them first',
          tasks: users,
        });
      }
      const exists = await db.query(statements.SCHEDULE_EXISTS[kind], [id]);
      if (exists.length === 0) return reply.code(404).send({ error: `no ${kind} schedule ${id}` });
      await db.query(statements.DELETE_SCHEDULE[kind], [id]);
      const who = request.principal!.who;
      log.info({ who, action: 'deleted', schedule: { kind, id } }, `console: ${who} deleted ${kind} schedule ${id}`);
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/beats',
    {
      schema: {
        tags: ['beats'],
        summary:
          'Which beat leads each group (by the lease), and every beat that records itself: leader first, then standbys, then gone ones',
      },
    },
    async () => {
      // Times: Dates (PostgreSQL) or ISO text (MySQL); flags: booleans or 0/1.
      const rows = await db.query<{
        name: string;
        holder: string;
        token: string;
        expires_at: Date | string;
        valid: boolean | number;
        now: Date | string;
      }>(statements.LEASES);
      const now = rows[0] === undefined ? context.now() : new Date(rows[0].now);
      const beats = await db.query<{
        instance: string;
        lease_name: string;
        hostname: string;
        pid: number;
        version: string;
        started_at: Date | string;
        seen_at: Date | string;
        leader: boolean | number;
        live: boolean | number;
      }>(statements.BEATS);
      return {
        now: now.toISOString(),
        beats: beats.map((row) => ({
          instance: row.instance,
          group: row.lease_name,
          role: !row.live ? 'gone' : row.leader ? 'leader' : 'standby',
          hostname: row.hostname,
          pid: row.pid,
          version: row.version,
          startedAt: new Date(row.started_at).toISOString(),
          lastSeen: new Date(row.seen_at).toISOString(),
        })),
        groups: rows.map((row) => ({
          name: row.name,
          leader: row.valid ? row.holder : null,
          lastHolder: row.holder,
          fencingToken: String(row.token),
          leaseExpires: runTime(new Date(row.expires_at), context.displayZone),
          valid: Boolean(row.valid),
        })),
      };
    },
  );
}
