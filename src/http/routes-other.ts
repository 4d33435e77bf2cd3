// /api/preview (next runs of an unsaved schedule), /api/schedules (the schedule rows
// and the tasks that use each) and /api/beats (which beat leads).
import type { FastifyInstance } from 'fastify';

import { SCHEDULE_KINDS, type ScheduleKindName } from '../model/validate.js';
import { previewOf } from './preview.js';
import { unprocessable } from './routes-tasks.js';
import { errorSchema, issuesSchema } from './schemas.js';
import type { ConsoleContext } from './context.js';
import { BEATS, LEASES, SCHEDULES } from './sql.js';
import { runTime } from './task-view.js';

const TABLES: Record<ScheduleKindName, string> = {
  crontab: 'django_celery_beat_crontabschedule',
  interval: 'django_celery_beat_intervalschedule',
  solar: 'django_celery_beat_solarschedule',
  clocked: 'django_celery_beat_clockedschedule',
};

type ScheduleRow = Record<string, unknown> & { id: number; tasks: { id: number; name: string }[] | string };

export function registerOtherRoutes(app: FastifyInstance, context: ConsoleContext): void {
  const { db, log } = context;

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
        const rows = await db.query<ScheduleRow>(SCHEDULES[kind]);
        answer[kind] = rows.map((row) => ({
          ...jsonDates(row),
          tasks: typeof row.tasks === 'string' ? (JSON.parse(row.tasks) as unknown) : row.tasks,
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
      const table = TABLES[kind as ScheduleKindName];
      const id = Number(idText);
      if (table === undefined || !/^\d{1,9}$/.test(idText))
        return reply.code(404).send({ error: `no ${kind} schedule ${idText}` });
      const users = await db.query<{ id: number; name: string }>(
        `SELECT id, name FROM django_celery_beat_periodictask WHERE ${kind}_id = $1 ORDER BY name`,
        [id],
      );
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
      const deleted = await db.query(`DELETE FROM ${table} WHERE id = $1 RETURNING id`, [id]);
      if (deleted.length === 0) return reply.code(404).send({ error: `no ${kind} schedule ${id}` });
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
      const rows = await db.query<{
        name: string;
        holder: string;
        token: string;
        expires_at: Date;
        valid: boolean;
        now: Date;
      }>(LEASES);
      const now = rows[0]?.now ?? context.now();
      const beats = await db.query<{
        instance: string;
        lease_name: string;
        hostname: string;
        pid: number;
        version: string;
        started_at: Date;
        seen_at: Date;
        leader: boolean;
        live: boolean;
      }>(BEATS);
      return {
        now: now.toISOString(),
        beats: beats.map((row) => ({
          instance: row.instance,
          group: row.lease_name,
          role: !row.live ? 'gone' : row.leader ? 'leader' : 'standby',
          hostname: row.hostname,
          pid: row.pid,
          version: row.version,
          startedAt: row.started_at.toISOString(),
          lastSeen: row.seen_at.toISOString(),
        })),
        groups: rows.map((row) => ({
          name: row.name,
          leader: row.valid ? row.holder : null,
          lastHolder: row.holder,
          fencingToken: row.token,
          leaseExpires: runTime(row.expires_at, context.displayZone),
          valid: row.valid,
        })),
      };
    },
  );
}

function jsonDates(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[key] = value instanceof Date ? value.toISOString() : value;
  return out;
}
