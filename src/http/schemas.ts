// JSON schemas of the API, for the OpenAPI document (GET /api/openapi.json).
// Requests are checked by our own code (task-input.ts and checkPeriodicTask), not by
// these schemas, so that every error is a 422 that names the field and the value,
// and so that no validator coerces or strips what the user sent.
import { SOLAR_EVENT_NAMES } from '../schedules/solar.js';

const nullable = (schema: Record<string, unknown>) => ({ ...schema, nullable: true });
const dateTime = { type: 'string', format: 'date-time' };

const crontab = {
  type: 'object',
  description: "Celery's crontab fields; omitted ones are `*` (timezone: UTC).",
  properties: {
    minute: { type: 'string', example: '*/15' },
    hour: { type: 'string', example: '9-17' },
    dayOfWeek: { type: 'string', example: 'mon-fri' },
    dayOfMonth: { type: 'string', example: '*' },
    monthOfYear: { type: 'string', example: '*' },
    timezone: { type: 'string', example: 'Asia/Shanghai' },
  },
  additionalProperties: false,
};
const interval = {
  type: 'object',
  required: ['every', 'period'],
  properties: {
    every: { type: 'integer', minimum: 1 },
    period: { type: 'string', enum: ['days', 'hours', 'minutes', 'seconds', 'microseconds'] },
  },
  additionalProperties: false,
};
const solar = {
  type: 'object',
  required: ['event', 'latitude', 'longitude'],
  properties: {
    event: {
      type: 'string',
      enum: [...SOLAR_EVENT_NAMES],
    },
    latitude: { type: 'number', minimum: -90, maximum: 90 },
    longitude: { type: 'number', minimum: -180, maximum: 180 },
  },
  additionalProperties: false,
};
const clocked = {
  type: 'object',
  required: ['clockedTime'],
  properties: { clockedTime: dateTime },
  additionalProperties: false,
};

const jsonColumn = (shape: string) => ({
  description: `A JSON ${shape}, or its JSON text as a string. Stored exactly as sent (numbers are never re-encoded).`,
});

/** The fields `schedule()` takes: POST creates (name, task and one schedule required), PATCH changes the fields given. */
export const taskInputSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 200 },
    task: { type: 'string', maxLength: 200, description: 'Celery task name, e.g. proj.tasks.add' },
    description: { type: 'string' },
    enabled: { type: 'boolean' },
    oneOff: { type: 'boolean' },
    args: jsonColumn('list'),
    kwargs: jsonColumn('object'),
    headers: jsonColumn('object'),
    queue: nullable({ type: 'string' }),
    exchange: nullable({ type: 'string' }),
    routingKey: nullable({ type: 'string' }),
    priority: nullable({ type: 'integer', minimum: 0, maximum: 255 }),
    expires: nullable(dateTime),
    expireSeconds: nullable({ type: 'integer', minimum: 0 }),
    startTime: nullable(dateTime),
    crontab,
    interval,
    solar,
    clocked,
    version: { type: 'string', description: 'PATCH: the version read (or send it in If-Match)' },
  },
  additionalProperties: false,
};

const runTime = {
  type: 'object',
  properties: {
    utc: dateTime,
    local: { type: 'string', description: 'ISO 8601 with the offset of `zone`' },
    zone: { type: 'string' },
  },
};

export const taskViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    task: { type: 'string' },
    description: { type: 'string' },
    enabled: { type: 'boolean' },
    oneOff: { type: 'boolean' },
    args: { type: 'string', description: 'JSON text as stored' },
    kwargs: { type: 'string', description: 'JSON text as stored' },
    headers: { type: 'string', description: 'JSON text as stored' },
    queue: nullable({ type: 'string' }),
    exchange: nullable({ type: 'string' }),
    routingKey: nullable({ type: 'string' }),
    priority: nullable({ type: 'integer' }),
    expires: nullable(dateTime),
    expireSeconds: nullable({ type: 'integer' }),
    startTime: nullable(dateTime),
    lastRunAt: nullable(dateTime),
    totalRunCount: { type: 'integer' },
    dateChanged: dateTime,
    version: { type: 'string', description: 'send back in If-Match when editing; a stale one gets 409' },
    schedule: {
      type: 'object',
      properties: {
        kind: nullable({ type: 'string', enum: ['crontab', 'interval', 'solar', 'clocked'] }),
        id: nullable({ type: 'integer' }),
        text: { type: 'string', example: '*/15 9-17 * * mon-fri (Asia/Shanghai)' },
        fields: nullable({ type: 'object' }),
      },
    },
    nextRun: nullable({
      ...runTime,
      description: 'by the schedule engine; null when disabled, expired, invalid or over',
    }),
    valid: { type: 'boolean' },
    problem: nullable({ type: 'string', description: 'what is wrong with an invalid row' }),
    registration: nullable({
      type: 'string',
      enum: ['registered', 'unregistered', 'no worker for queue', 'unknown', null],
      description:
        "whether a live worker consuming the task's queue has its task registered (Celery remote control); " +
        'unknown: no worker answered; null: disabled. In the list and get answers.',
    }),
    failing: {
      type: 'object',
      nullable: true,
      description:
        'null unless the task is failing: its last K decided runs all failed, or its last run was LOST (see GET /api/failing)',
    },
  },
};

export const issuesSchema = {
  type: 'object',
  description: 'Validation failed; nothing was written.',
  properties: {
    error: { type: 'string' },
    issues: {
      type: 'array',
      items: { type: 'object', properties: { field: { type: 'string' }, value: {}, message: { type: 'string' } } },
    },
  },
};

export const errorSchema = { type: 'object', properties: { error: { type: 'string' } } };

export const idParams = { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] };

/** The answers every write may give besides its success. */
export const writeErrors = {
  401: { ...errorSchema, description: 'no or wrong credentials' },
  403: { ...errorSchema, description: 'CSRF token missing or wrong, or a cross-site request' },
  404: { ...errorSchema, description: 'no such task' },
  409: { ...errorSchema, description: 'the task changed since the version given' },
  422: issuesSchema,
};

const RUN_STATE_ENUM = [
  'SENT',
  'SKIPPED',
  'RECEIVED',
  'STARTED',
  'SUCCESS',
  'FAILURE',
  'RETRY',
  'REVOKED',
  'REJECTED',
  'LOST',
];

/** The filters of /api/runs and /api/tasks/{id}/runs (as `dbbeat runs`). */
export const runsQuerySchema = {
  type: 'object',
  properties: {
    state: { type: 'string', enum: RUN_STATE_ENUM, description: 'any case' },
    since: {
      type: 'string',
      description:
        'runs sent at or after: an ISO time (UTC without an offset) or a duration back from now (90s, 15m, 2h, 1d, 1w)',
      example: '2h',
    },
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    before: { type: 'integer', minimum: 1, description: "keyset paging: the previous page's nextBefore" },
  },
};

/** One run of dbbeat_run. */
export const runSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    periodicTaskId: { type: 'integer' },
    periodicTaskName: { type: 'string' },
    task: { type: 'string', description: 'the Celery task name' },
    taskId: nullable({ type: 'string', description: 'the Celery task id; null for a skipped run' }),
    scheduledAt: nullable({ ...dateTime, description: 'the slot; null for a manual run' }),
    sentAt: dateTime,
    lateMs: nullable({ type: 'integer', description: 'sent minus scheduled, ms' }),
    broker: { type: 'string', description: 'the broker URL without its password' },
    queue: nullable({ type: 'string' }),
    manual: { type: 'boolean', description: 'sent by run now' },
    state: { type: 'string', enum: RUN_STATE_ENUM },
    receivedAt: nullable(dateTime),
    startedAt: nullable(dateTime),
    finishedAt: nullable(dateTime),
    runtime: nullable({ type: 'number', description: 'seconds, as the worker measured it' }),
    worker: nullable({ type: 'string' }),
    result: nullable({ type: 'string', description: 'repr of the return value, truncated' }),
    exceptionType: nullable({ type: 'string' }),
    exceptionMessage: nullable({ type: 'string' }),
    traceback: nullable({ type: 'string' }),
  },
};

/** A page of runs. */
export const runPageSchema = {
  type: 'object',
  properties: {
    items: { type: 'array', items: runSchema },
    nextBefore: nullable({ type: 'integer', description: 'pass as before for the next page; null on the last' }),
  },
};

/** Failing tasks (alerts as data). */
export const failingSchema = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      periodicTaskId: { type: 'integer' },
      periodicTaskName: { type: 'string' },
      reason: {
        type: 'string',
        enum: ['failures', 'lost'],
        description: 'failures: the last K decided runs failed; lost: the last run never reported an outcome',
      },
      failures: { type: 'integer', description: 'FAILURE runs among the last K decided ones' },
      lastRun: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          taskId: nullable({ type: 'string' }),
          state: { type: 'string', enum: RUN_STATE_ENUM },
          sentAt: dateTime,
          exceptionType: nullable({ type: 'string' }),
          exceptionMessage: nullable({ type: 'string' }),
        },
      },
    },
  },
};
