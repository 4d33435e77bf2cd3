// dbbeat's Prisma client extension: change tracking as django-celery-beat's
// PeriodicTasks does it, validated writes, and `periodicTask.schedule()`.
//
//   const prisma = new PrismaClient({ adapter }).$extends(dbbeat());
//
// Every write of a task or schedule through the extended client is checked
// first (see validated-writes.ts) and bumps django_celery_beat_periodictasks.
// last_update. Outside a transaction the write and the bump run in one batch
// transaction; inside the caller's own `$transaction` the write runs as is and
// the database trigger (migrations/0003) bumps last_update in that transaction.
// An update of a task that writes only last_run_at / total_run_count is the
// beat's bookkeeping: it is neither validated nor counted as a change.
import type { SqlDriverAdapterFactory } from '@prisma/client/runtime/client';

import { PrismaClient as MysqlPrismaClient } from '../generated/prisma-mysql/client.js';
import { PrismaClient } from '../generated/prisma/client.js';
import { Prisma } from '../generated/prisma/client.js';
import {
  type TrackedModel,
  bumpLastUpdateSql,
  isBookkeepingOnly,
  isMysqlClient,
  isTrackedWrite,
  markChanged,
  readLastChange,
} from './changes.js';
import { type ScheduleTaskInput, scheduleTask } from './schedule-task.js';
import { type Row, type RowReader, validateWrite } from './validated-writes.js';

export { ValidationError, type ValidationIssue } from './validate.js';
export type { ScheduleTaskInput } from './schedule-task.js';

/**
 * The Prisma client extension. Apply it last, so that its own reads inside a
 * transaction (see `sameTransactionReader`) do not pass through later extensions.
 */
export function dbbeat() {
  return Prisma.defineExtension((client) => {
    // The client this extension was applied to: its writes are not checked again.
    const base = client as unknown as PrismaClient;
    return client.$extends({
      name: 'dbbeat',
      model: {
        periodicTasks: {
          /** django-celery-beat's `PeriodicTasks.changed()`: makes every beat reload. Returns the new last_update. */
          changed(): Promise<Date> {
            return markChanged(base);
          },
          /** django-celery-beat's `PeriodicTasks.update_changed()`: the same bump, for after bulk updates. */
          updateChanged(): Promise<Date> {
            return markChanged(base);
          },
          /** django-celery-beat's `PeriodicTasks.last_change()`: when tasks last changed, or null. */
          lastChange(): Promise<Date | null> {
            return readLastChange(base);
          },
        },
        periodicTask: {
          /**
           * Schedules a task by name: validates, finds or creates the schedule row
           * (like Django's get_or_create), creates or updates the task, in one
           * transaction. Fields not given keep their current values on an update.
           */
          schedule(input: ScheduleTaskInput) {
            return scheduleTask(base, input);
          },
        },
      },
      query: {
        $allModels: {
          async $allOperations(params) {
            const { model, operation, args, query } = params;
            if (!isTrackedWrite(model, operation)) return query(args);
            const argsRow = args as Row;
            const internal = internalParamsOf(params);
            const reader = readerFor(base, query, internal);
            if (model === 'PeriodicTask' && operation.startsWith('update') && isBookkeepingOnly(argsRow.data)) {
              return query(await keepDateChanged(operation, argsRow, reader));
            }
            await validateWrite(model, operation, argsRow, reader);
            // MySQL's triggers bump last_update themselves (the PostgreSQL bump is not MySQL's SQL).
            if (internal?.transaction !== undefined || isMysqlClient(base)) return query(args);
            const [result] = await base.$transaction([
              query(args) as Prisma.PrismaPromise<unknown>,
              base.$queryRaw(bumpLastUpdateSql),
            ]);
            return result;
          },
        },
      },
    });
  });
}

/** Something that can hand out a Prisma driver adapter: an OpenDatabase from open.ts. */
export interface AdapterSource {
  /** 'mysql' picks the client generated for MySQL/MariaDB; anything else PostgreSQL's. */
  readonly kind?: string;
  prismaAdapter(): SqlDriverAdapterFactory;
}

/**
 * A Prisma client with dbbeat's extension on `db`. Call `$disconnect()` when done.
 *
 * Prisma generates one client per provider; this picks the one for `db.kind`. The MySQL
 * client has the same models and methods, so it is typed as the PostgreSQL one (only
 * PostgreSQL-only query options, such as `mode: 'insensitive'`, are refused at run time).
 */
export function createClient(db: AdapterSource) {
  return createBaseClient(db).$extends(dbbeat());
}

/**
 * The plain Prisma client for `db` (no dbbeat extension), generated for its provider and
 * typed as PostgreSQL's, as createClient's. Call `$disconnect()` when done.
 */
export function createBaseClient(db: AdapterSource): PrismaClient {
  if (db.kind === 'mysql') return new MysqlPrismaClient({ adapter: db.prismaAdapter() }) as unknown as PrismaClient;
  return new PrismaClient({ adapter: db.prismaAdapter() });
}

/** The client `createClient` returns. */
export type DbbeatClient = ReturnType<typeof createClient>;

// Prisma's date_changed is @updatedAt, so any update through Prisma would move it
// and the trigger would count bookkeeping as a change. A single-row update keeps it
// by writing back the current value. (An updateMany cannot, and is counted.)
async function keepDateChanged(operation: string, args: Row, reader: RowReader): Promise<Row> {
  if (operation !== 'update') return args;
  const current = await reader.findUnique('PeriodicTask', { where: args.where as Row });
  if (current === null) return args;
  return { ...args, data: { ...(args.data as Row), dateChanged: current.dateChanged } };
}

// ---- reading in the caller's transaction --------------------------------------------

/** The parts of Prisma's internal request parameters this module relies on. */
interface InternalParams {
  transaction?: { kind: string };
  [key: string]: unknown;
}

type QueryFunction = (args: unknown, internal?: InternalParams) => PromiseLike<unknown>;

function internalParamsOf(params: object): InternalParams | undefined {
  const internal = (params as { __internalParams?: unknown }).__internalParams;
  return typeof internal === 'object' && internal !== null ? (internal as InternalParams) : undefined;
}

/**
 * Reads rows for validation. Outside a transaction, through the base client.
 * Inside the caller's interactive transaction the read must see that
 * transaction's own uncommitted rows (a schedule created a moment ago) and must
 * not wait for a second connection (a pool of one would deadlock), so it is sent
 * as the caller's request with another model and action. Prisma offers no public
 * way to reach the transaction from a query extension; this relies on
 * `__internalParams` and on `query(args, params)` of Prisma 7's runtime.
 */
function readerFor(base: PrismaClient, query: unknown, internal: InternalParams | undefined): RowReader {
  if (internal?.transaction?.kind !== 'itx') {
    return {
      findUnique: (model, args) => delegateOf(base, model).findUnique(args) as Promise<Row | null>,
    };
  }
  return {
    async findUnique(model: TrackedModel, args) {
      const jsModelName = model.charAt(0).toLowerCase() + model.slice(1);
      const request: InternalParams = {
        ...internal,
        args,
        model,
        jsModelName,
        action: 'findUnique',
        clientMethod: `${jsModelName}.findUnique`,
        dataPath: [],
      };
      return (await (query as QueryFunction)(args, request)) as Row | null;
    },
  };
}

interface FindUniqueDelegate {
  findUnique(args: { where: Row; include?: Row }): PromiseLike<unknown>;
}

function delegateOf(client: PrismaClient, model: TrackedModel): FindUniqueDelegate {
  const delegates: Record<TrackedModel, unknown> = {
    PeriodicTask: client.periodicTask,
    IntervalSchedule: client.intervalSchedule,
    CrontabSchedule: client.crontabSchedule,
    SolarSchedule: client.solarSchedule,
    ClockedSchedule: client.clockedSchedule,
  };
  // Each delegate's findUnique takes its own model's where; the rows come from Prisma's own arguments.
  return delegates[model] as FindUniqueDelegate;
}
