// The events consumer between a source and the database: events of a message body (one
// or a list) become outcomes written in batches; a write that fails is kept and written
// later, in order; events of tasks dbbeat did not send change nothing. And the settings
// that turn it on (--events, --event-exchange, --lost-after).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { OptionsError, resolveConfig } from '../../src/config.js';
import { beatStoreFor, type OpenDatabase, runStoreFor } from '../../src/db/open.js';
import type { OutcomeUpdate, RunStore } from '../../src/db/run-store.js';
import { EventConsumer } from '../../src/outcomes/events-consumer.js';
import type { EventSource } from '../../src/outcomes/events-source.js';
import { Metrics } from '../../src/outcomes/metrics.js';
import { postgresDialect, withDialectDatabase } from '../support/dialects.js';
import { histogramOf, parseMetrics, sampleValue, sumOf } from '../support/prometheus.js';
import { insertTask, sentRun } from '../support/rows.js';

/** An event source the test feeds by hand: `deliver(body)` hands one message body to the consumer. */
function fakeSource(): { source: EventSource; deliver: (body: unknown) => void } {
  let onBody: (body: unknown) => void = () => undefined;
  return {
    source: {
      start: (handler) => {
        onBody = handler;
        return Promise.resolve();
      },
      stop: () => Promise.resolve(),
    },
    deliver: (body) => onBody(body),
  };
}

const silent = { info: () => undefined, warn: () => undefined };

describe('events consumer', () => {
  const database = withDialectDatabase(postgresDialect, 'dbbeat_evc');
  let db: OpenDatabase;

  before(async () => {
    db = database.db;
    const id = await insertTask(
      { query: async (sql: string, params?: unknown[]) => ({ rows: await db.query(sql, params) }) } as never,
      { name: 'evc', schedule: { interval: { every: 1, period: 'hours' } } },
    );
    await beatStoreFor(db).insertRuns(['a', 'b'].map((taskId) => sentRun({ id, name: 'evc' }, taskId, Date.now())));
  });

  const states = async () =>
    Object.fromEntries(
      (await db.query<{ task_id: string; state: string }>('SELECT task_id, state FROM dbbeat_run')).map((r) => [
        r.task_id,
        r.state,
      ]),
    );

  test('bodies from the source are written in batches; a failed write is kept and written in order', async () => {
    const { source, deliver } = fakeSource();
    const real = runStoreFor(db);
    let failNext = true;
    const batches: OutcomeUpdate[][] = [];
    // The real store behind one injected failure (the database away for one write).
    const store: Pick<RunStore, 'applyOutcomes'> = {
      applyOutcomes: (updates) => {
        batches.push([...updates]);
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('connection refused'));
        }
        return real.applyOutcomes(updates);
      },
    };
    const written: number[] = [];
    const metrics = new Metrics({ processMetrics: false });
    const consumer = new EventConsumer(
      store,
      {
        brokerUrl: 'redis://unused',
        source,
        flushEveryMs: 60_000,
        maxBatch: 3,
        onWritten: (_u, runs) => {
          written.push(runs.length);
          metrics.applied(runs);
        },
      },
      silent,
    );
    await consumer.setActive(true);
    assert.equal(await consumer.subscribed, true);
    const event = (type: string, uuid: string, t: number) => ({ type, uuid, hostname: 'celery@h', timestamp: t });
    // A list (buffered task events), then single events; 'zz' is not a run of dbbeat's.
    deliver([event('task-received', 'a', 1), event('task-started', 'a', 2), event('worker-heartbeat', 'a', 2)]);
    deliver(event('task-received', 'zz', 3)); // third update: a batch of 3 is written now, and fails
    await consumer.flush(); // and is written again
    assert.equal(batches.length, 2);
    assert.deepEqual(await states(), { a: 'STARTED', b: 'SENT' });
    deliver({ ...event('task-succeeded', 'a', 4), runtime: 0.5, result: '1' });
    deliver(event('task-failed', 'b', 5));
    await consumer.stop(); // writes what is pending
    assert.deepEqual(
      batches.map((b) => b.map((u) => `${u.taskId}:${u.state}`)),
      [
        ['a:RECEIVED', 'a:STARTED', 'zz:RECEIVED'],
        ['a:RECEIVED', 'a:STARTED', 'zz:RECEIVED'],
        ['a:SUCCESS', 'b:FAILURE'],
      ],
    );
    assert.deepEqual(written, [1, 2], 'zz matched no run');
    assert.deepEqual(await states(), { a: 'SUCCESS', b: 'FAILURE' });
    // The outcome metrics count each run once per state it entered (the folded RECEIVED
    // never reached the row; zz is not dbbeat's), and the success's runtime.
    const families = parseMetrics(await metrics.text());
    const count = (state: string) => sampleValue(families, 'dbbeat_run_outcomes_total', { state });
    assert.deepEqual([count('STARTED'), count('SUCCESS'), count('FAILURE'), count('RECEIVED')], [1, 1, 1, undefined]);
    const finished = await db.query<{ n: number | string }>(
      "SELECT count(*) AS n FROM dbbeat_run WHERE state IN ('SUCCESS', 'FAILURE')",
    );
    assert.equal((count('SUCCESS') ?? 0) + (count('FAILURE') ?? 0), Number(finished[0]!.n));
    assert.equal(sumOf(families, 'dbbeat_run_outcomes_total'), 3);
    const runtime = histogramOf(families, 'dbbeat_run_runtime_seconds');
    assert.deepEqual([runtime?.count, runtime?.sum], [1, 0.5]);
  });

  test("an event that overtakes its run's history row waits for it (beforeWrite), and is not lost", async () => {
    const { source, deliver } = fakeSource();
    // The beat's side: the run 'c' was published, its history row is not written yet.
    let rowWritten!: () => void;
    const historyWritten = new Promise<void>((resolve) => (rowWritten = resolve));
    const real = runStoreFor(db);
    let applied = 0;
    const store: Pick<RunStore, 'applyOutcomes'> = {
      applyOutcomes: (updates) => {
        applied += 1;
        return real.applyOutcomes(updates);
      },
    };
    const [row] = await db.query<{ periodic_task_id: number }>('SELECT periodic_task_id FROM dbbeat_run LIMIT 1');
    const consumer = new EventConsumer(
      store,
      { brokerUrl: 'redis://unused', source, flushEveryMs: 60_000, beforeWrite: () => historyWritten },
      silent,
    );
    await consumer.setActive(true);
    deliver({ type: 'task-succeeded', uuid: 'c', hostname: 'celery@h', timestamp: 6, runtime: 0.5, result: '1' });
    const flushed = consumer.flush();
    for (let turn = 0; turn < 20; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(applied, 0, 'nothing is written before the history row is');
    await beatStoreFor(db).insertRuns([sentRun({ id: row!.periodic_task_id, name: 'evc' }, 'c', Date.now())]);
    rowWritten();
    await flushed;
    await consumer.stop();
    assert.equal((await states()).c, 'SUCCESS');
  });
});

describe('--events, --event-exchange and --lost-after', () => {
  test('off by default; flags, then environment', () => {
    const defaults = resolveConfig({}, {});
    assert.deepEqual([defaults.events, defaults.lostAfterMs], [{ enabled: false, exchange: 'celeryev' }, 3_600_000]);
    const env = { DBBEAT_EVENTS: 'True', CELERY_EVENT_EXCHANGE: 'ev', DBBEAT_LOST_AFTER: '90' };
    const fromEnv = resolveConfig({}, env);
    assert.deepEqual([fromEnv.events, fromEnv.lostAfterMs], [{ enabled: true, exchange: 'ev' }, 90_000]);
    const flags = resolveConfig({ events: false, eventExchange: 'mine', lostAfter: 0 }, env);
    assert.deepEqual([flags.events, flags.lostAfterMs], [{ enabled: false, exchange: 'mine' }, null]);
    assert.throws(() => resolveConfig({ lostAfter: -1 }, {}), OptionsError);
    assert.throws(() => resolveConfig({}, { DBBEAT_EVENTS: 'maybe' }), OptionsError);
  });
});
