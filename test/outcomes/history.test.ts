// Run history (dbbeat_run) as the beat writes it: one row per run sent or skipped, in
// the same fenced write as last_run_at; none with history off; retention by age and by a
// row cap. A beat in this process (fake clock, memory broker) on a real PostgreSQL.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';

import pino from 'pino';

import { runStoreFor } from '../../src/db/open.js';
import { HistoryPruner } from '../../src/outcomes/retention.js';
import { BeatBench, type RunningBeat } from '../beat/in-process.js';

const S = 1000;
const T0 = Date.parse('2030-01-07T10:00:00.000Z');

let bench: BeatBench;
let running: RunningBeat | undefined;

before(async () => {
  bench = await BeatBench.create();
});
after(async () => {
  await bench.close();
});
beforeEach(async () => {
  await bench.reset();
  await bench.db.query('TRUNCATE dbbeat_run');
});
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

type RunRow = {
  periodic_task_id: number;
  periodic_task_name: string;
  task: string;
  task_id: string | null;
  scheduled_at: Date | null;
  sent_at: Date;
  late_ms: number | null;
  broker: string;
  queue: string | null;
  manual: boolean;
  state: string;
};

async function runs(): Promise<RunRow[]> {
  const rows = await bench.db.query<RunRow>(
    `SELECT periodic_task_id, periodic_task_name, task, task_id, scheduled_at, sent_at, late_ms, broker, queue, manual, state
       FROM dbbeat_run ORDER BY scheduled_at, periodic_task_name`,
  );
  return rows;
}

describe('run history', () => {
  test('one row per run sent, with its task id, slot, lateness, broker and queue; skipped runs as SKIPPED', async () => {
    const every = { interval: { every: 60, period: 'seconds' as const } };
    const sent = await bench.insertTask({
      name: 'sent',
      task: 'proj.add',
      schedule: every,
      queue: 'reports',
      lastRunAt: new Date(T0 - 65 * S),
      dateChanged: new Date(T0 - 3600 * S),
    });
    const skipped = await bench.insertTask({
      name: 'skipped',
      task: 'proj.mul',
      schedule: every,
      lastRunAt: new Date(T0 - 90 * S),
      dateChanged: new Date(T0 - 3600 * S),
    });
    running = await bench.start(T0, { startingDeadline: 10, brokerUrl: 'redis://:secret@broker.example:6379/3' });
    await running.runUntil(T0 + 60 * S);
    const message = running.broker.received.find((r) => r.message.periodicTaskName === 'sent')!.message;
    const rows = await runs();
    assert.deepEqual(
      rows.map((r) => [r.periodic_task_name, r.state, r.scheduled_at?.toISOString(), r.late_ms, r.queue]),
      [
        ['skipped', 'SKIPPED', new Date(T0 - 30 * S).toISOString(), 30000, 'celery'],
        ['sent', 'SENT', new Date(T0 - 5 * S).toISOString(), 5000, 'reports'],
        ['sent', 'SENT', new Date(T0 + 55 * S).toISOString(), 0, 'reports'],
        ['skipped', 'SENT', new Date(T0 + 60 * S).toISOString(), 0, 'celery'],
      ],
    );
    const first = rows[1]!;
    assert.equal(first.periodic_task_id, sent);
    assert.equal(first.task, 'proj.add');
    assert.equal(first.task_id, message.id, 'the Celery task id the message carried');
    assert.equal(first.sent_at.toISOString(), new Date(T0).toISOString());
    assert.equal(first.manual, false);
    assert.ok(!first.broker.includes('secret'), `no password in ${first.broker}`);
    assert.match(first.broker, /broker\.example:6379\/3/);
    assert.equal(rows[0]!.periodic_task_id, skipped);
    assert.equal(rows[0]!.task_id, null, 'a skipped run has no task id');
  });

  test('with history off, no row is written (and the runs are still recorded)', async () => {
    const id = await bench.insertTask({
      name: 'quiet',
      schedule: { interval: { every: 60, period: 'seconds' } },
      lastRunAt: new Date(T0 - 65 * S),
      dateChanged: new Date(T0 - 3600 * S),
    });
    running = await bench.start(T0, { history: false });
    assert.equal(running.broker.received.length, 1);
    assert.deepEqual(await runs(), []);
    const rows = await bench.db.query<{ total_run_count: number }>(
      'SELECT total_run_count FROM django_celery_beat_periodictask WHERE id = $1',
      [id],
    );
    assert.equal(rows[0]!.total_run_count, 1);
  });

  test('a re-sent run (same task id, after a crash) keeps its one row', async () => {
    const id = await bench.insertTask({
      name: 'again',
      schedule: { interval: { every: 60, period: 'seconds' } },
      lastRunAt: new Date(T0 - 65 * S),
      dateChanged: new Date(T0 - 3600 * S),
    });
    running = await bench.start(T0);
    await running.stop();
    running = undefined;
    // As if the record had been lost: the next beat computes the same slot and task id.
    await bench.db.query('UPDATE django_celery_beat_periodictask SET last_run_at = $2 WHERE id = $1', [
      id,
      new Date(T0 - 65 * S),
    ]);
    running = await bench.start(T0 + S);
    assert.equal(running.broker.received.length, 1);
    const rows = await runs();
    assert.equal(rows.length, 1);
  });
});

describe('retention', () => {
  async function fill(count: number, sentAt: (i: number) => Date): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      await bench.db.query(
        `INSERT INTO dbbeat_run (periodic_task_id, periodic_task_name, task, task_id, sent_at, broker, state)
         VALUES (1, 'x', 'proj.x', $1, $2, 'redis://h', 'SENT')`,
        [`id-${i}`, sentAt(i)],
      );
    }
  }

  test('rows older than the history days go, newer ones stay', async () => {
    const now = Date.now();
    await fill(6, (i) => new Date(now - (i < 3 ? 15 : 13) * 86_400_000));
    const pruner = new HistoryPruner(
      runStoreFor(bench.db),
      { enabled: true, days: 14, maxRows: 1000 },
      pino({ level: 'silent' }),
      () => true,
    );
    assert.equal(await pruner.pruneOnce(), 3);
    const rows = await bench.db.query<{ task_id: string }>('SELECT task_id FROM dbbeat_run ORDER BY id');
    assert.deepEqual(
      rows.map((r) => r.task_id),
      ['id-3', 'id-4', 'id-5'],
    );
  });

  test('beyond the row cap the oldest go, in chunks', async () => {
    await bench.db.query(
      `INSERT INTO dbbeat_run (periodic_task_id, periodic_task_name, task, task_id, sent_at, broker, state)
       SELECT 1, 'x', 'proj.x', 'id-' || g, now(), 'redis://h', 'SENT' FROM generate_series(1, 12000) g`,
    );
    const pruner = new HistoryPruner(
      runStoreFor(bench.db),
      { enabled: true, days: 14, maxRows: 1000 },
      pino({ level: 'silent' }),
      () => true,
    );
    assert.equal(await pruner.pruneOnce(), 11000);
    const rows = await bench.db.query<{ n: number }>('SELECT count(*)::int AS n FROM dbbeat_run');
    assert.equal(rows[0]!.n, 1000);
    const kept = await bench.db.query<{ first: string }>('SELECT task_id AS first FROM dbbeat_run ORDER BY id LIMIT 1');
    assert.equal(kept[0]!.first, 'id-11001');
  });
});
