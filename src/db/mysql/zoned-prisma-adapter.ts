// Prisma's MariaDB adapter reads and writes DATETIMEs as UTC. When the database's naive
// times are wall times of another zone (Django with USE_TZ = False), this wrapper moves
// them: a DateTime argument is written as its wall time in that zone, and a DATETIME column
// read is taken as such a wall time. With UTC (the default) it is not used at all.
import type { SqlDriverAdapterFactory } from '@prisma/client/runtime/client';

import type { NaiveTimeZone } from './naive-time.js';

type Adapter = Awaited<ReturnType<SqlDriverAdapterFactory['connect']>>;
type Query = Parameters<Adapter['queryRaw']>[0];
type ResultSet = Awaited<ReturnType<Adapter['queryRaw']>>;
type Transaction = Awaited<ReturnType<Adapter['startTransaction']>>;

/** ColumnTypeEnum.DateTime of @prisma/driver-adapter-utils. */
const DATETIME_COLUMN = 10;

/** `factory`, with every DATETIME read and written as a wall time in `zone`. */
export function zonedPrismaAdapter(factory: SqlDriverAdapterFactory, zone: NaiveTimeZone): SqlDriverAdapterFactory {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    async connect() {
      const adapter = await factory.connect();
      return new Proxy(adapter, {
        get(target, property, receiver) {
          if (property === 'queryRaw') return (query: Query) => queryRaw(target, query, zone);
          if (property === 'executeRaw') return (query: Query) => target.executeRaw(shiftArgs(query, zone));
          if (property === 'startTransaction') {
            return async (...args: Parameters<Adapter['startTransaction']>) =>
              zonedTransaction(await target.startTransaction(...args), zone);
          }
          const value: unknown = Reflect.get(target, property, receiver);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  };
}

function zonedTransaction(transaction: Transaction, zone: NaiveTimeZone): Transaction {
  return new Proxy(transaction, {
    get(target, property, receiver) {
      if (property === 'queryRaw') return (query: Query) => queryRaw(target, query, zone);
      if (property === 'executeRaw') return (query: Query) => target.executeRaw(shiftArgs(query, zone));
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function queryRaw(target: Pick<Adapter, 'queryRaw'>, query: Query, zone: NaiveTimeZone): Promise<ResultSet> {
  const result = await target.queryRaw(shiftArgs(query, zone));
  const columns = result.columnTypes.flatMap((type, index) => (type === DATETIME_COLUMN ? [index] : []));
  if (columns.length === 0) return result;
  for (const row of result.rows) {
    for (const index of columns) {
      const value = row[index];
      // The adapter gives '2026-11-30T21:15:00+00:00' for the wall time 2026-11-30 21:15:00.
      if (typeof value === 'string')
        row[index] = new Date(zone.toEpochMs(value.replace(/(Z|[+-]00:00)$/, ''))).toISOString();
    }
  }
  return result;
}

/** The query with each DateTime argument replaced by the instant whose UTC reading is its wall time in `zone`. */
function shiftArgs(query: Query, zone: NaiveTimeZone): Query {
  let args: unknown[] | undefined;
  query.argTypes.forEach((type, index) => {
    const value = query.args[index];
    if (type.scalarType !== 'datetime' || value === null || value === undefined) return;
    // Prisma passes a DateTime as a Date or an ISO string.
    const instant =
      value instanceof Date
        ? value.getTime()
        : typeof value === 'string' || typeof value === 'number'
          ? Date.parse(String(value))
          : Number.NaN;
    if (Number.isNaN(instant)) return;
    args ??= [...query.args];
    args[index] = new Date(wallAsUtc(instant, zone));
  });
  return args === undefined ? query : { ...query, args };
}

/** The instant whose UTC fields read as the wall time of `instant` in `zone`. */
function wallAsUtc(instant: number, zone: NaiveTimeZone): number {
  return Date.parse(`${zone.fromEpochMs(instant).replace(' ', 'T').slice(0, 23)}Z`);
}
