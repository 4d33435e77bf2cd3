// GET /api/tasks answers the same list on every dialect (test/support/dialects.ts):
// filters, search, sort with NULLs, paging and the total; times read as the instants
// written and MySQL's 0/1 flags as booleans.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import pino from 'pino';

import type { Broker } from '../../src/broker/types.js';
import { migrate } from '../../src/db/migrate.js';
import { openDatabase, type OpenDatabase } from '../../src/db/open.js';
import { buildConsoleServer, type ConsoleContext } from '../../src/http/server.js';
import { testDialects } from '../support/dialects.js';
import { bearer, testAuth } from './support.js';

/** Listing sends nothing: any call to the broker fails the test. */
const noBroker = new Proxy(
  {},
  { get: () => () => Promise.reject(new Error('the list must not use the broker')) },
) as Broker;

for (const dialect of testDialects) {
  describe(`GET /api/tasks on ${dialect.name}`, () => {
    let temp: { url: string; drop(): Promise<void> };
    let db: OpenDatabase;
    let app: Awaited<ReturnType<typeof buildConsoleServer>>['app'];
    let context: ConsoleContext;

    before(async () => {
      temp = await dialect.create('dbbeat_api_list');
      db = await openDatabase({ databaseUrl: temp.url });
      await migrate(db);
      await dialect.insertTask(db, {
        name: 'Alpha report',
        schedule: { crontab: { minute: '0', hour: '3' } },
        queue: 'reports',
        lastRunAt: new Date('2026-11-30T03:00:00.125Z'),
      });
      await dialect.insertTask(db, {
        name: 'beta',
        schedule: { interval: { every: 10, period: 'seconds' } },
        enabled: false,
      });
      await dialect.insertTask(db, { name: 'gamma', schedule: { interval: { every: 60, period: 'seconds' } } });
      ({ app, context } = await buildConsoleServer({
        database: db,
        broker: noBroker,
        auth: testAuth(),
        host: '127.0.0.1',
        port: 0,
        log: pino({ level: 'silent' }),
      }));
      await app.ready();
    });
    after(async () => {
      await app.close();
      await context.prisma.$disconnect();
      await db.close();
      await temp.drop();
    });

    async function list(query: string): Promise<{ total: number; names: string[]; items: Record<string, unknown>[] }> {
      const response = await app.inject({ method: 'GET', url: `/api/tasks${query}`, headers: bearer });
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json<{ total: number; items: Record<string, unknown>[] }>();
      return { total: body.total, names: body.items.map((item) => String(item.name)), items: body.items };
    }

    test('every task by name, with total, flags and times', async () => {
      const all = await list('');
      assert.deepEqual([all.total, all.names], [3, ['Alpha report', 'beta', 'gamma']]);
      assert.deepEqual(
        all.items.map((item) => item.enabled),
        [true, false, true],
      );
      assert.match(JSON.stringify(all.items[0]), /2026-11-30T03:00:00\.125Z/);
    });

    test('filters, case-insensitive search, exact queue, sort and paging', async () => {
      assert.deepEqual((await list('?enabled=false')).names, ['beta']);
      assert.deepEqual((await list('?kind=interval')).names, ['beta', 'gamma']);
      assert.deepEqual((await list('?q=REPORT')).names, ['Alpha report']);
      assert.deepEqual((await list('?queue=reports')).names, ['Alpha report']);
      assert.deepEqual((await list('?queue=REPORTS')).names, [], 'queue is exact');
      assert.deepEqual(
        (await list('?sort=last_run_at&order=desc')).names,
        ['Alpha report', 'gamma', 'beta'],
        'NULLs last, ties by id',
      );
      const page = await list('?sort=name&order=desc&limit=1&offset=1');
      assert.deepEqual([page.total, page.names], [3, ['beta']]);
    });
  });
}
