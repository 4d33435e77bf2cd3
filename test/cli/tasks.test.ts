// `dbbeat tasks` against a running beat (PostgreSQL, a private Redis): ls, show,
// enable (the beat starts sending), disable, run (a manual message, task id printed),
// rm; --json; a mistyped name is an error that suggests the closest name.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Redis } from 'ioredis';
import pg from 'pg';

import { type BeatProcess, spawnBeat } from '../support/beat-process.js';
import { runDbbeat } from '../support/cli.js';
import { type TempDatabase, createMigratedDatabase } from '../support/postgres.js';
import { PrivateRedis } from '../support/private-redis.js';
import { insertTask } from '../support/rows.js';

let temp: TempDatabase;
let redis: PrivateRedis;
let sql: pg.Client;
let beat: BeatProcess;

/** `dbbeat tasks <args…>` against the test database and the private Redis. */
const dbbeat = (...args: string[]) =>
  runDbbeat(['tasks', ...args, '--database-url', temp.url], { CELERY_BROKER_URL: redis.url(), DATABASE_URL: '' });

before(async () => {
  temp = await createMigratedDatabase('dbbeat_tasks_cli');
  sql = new pg.Client({ connectionString: temp.url });
  await sql.connect();
  redis = await PrivateRedis.start();
  await insertTask(sql, {
    name: 'nightly report',
    task: 'tasks.report',
    schedule: { crontab: { minute: '30', hour: '2', timezone: 'Europe/Berlin' } },
    args: '[1, 2.0]',
  });
  await insertTask(sql, {
    name: 'tick',
    task: 'tasks.tick',
    schedule: { interval: { every: 1, period: 'seconds' } },
    enabled: false,
    queue: 'ticks',
  });
  beat = spawnBeat({ databaseUrl: temp.url, brokerUrl: redis.url(), maxInterval: 1 });
  await beat.waitForLine((line) => /leader|ready|loaded/i.test(line.msg), 60_000);
});

after(async () => {
  await beat?.stop();
  await sql?.end().catch(() => undefined);
  await redis?.remove();
  await temp?.drop();
});

test('ls and show: a terminal table and the details, or JSON', async () => {
  const ls = await dbbeat('ls');
  assert.equal(ls.code, 0, ls.stderr);
  const [header, ...rows] = ls.stdout.trimEnd().split('\n');
  assert.match(header!, /^NAME\s+TASK\s+SCHEDULE\s+NEXT RUN \(UTC\)\s+LAST RUN \(UTC\)\s+ENABLED$/);
  assert.equal(rows.length, 2);
  assert.match(
    rows[0]!,
    /^nightly report\s+tasks\.report\s+30 2 \* \* \* \(Europe\/Berlin\)\s+\d{4}-\d\d-\d\d 0[01]:30:00\s+never\s+yes$/,
  );
  assert.match(rows[1]!, /^tick\s+tasks\.tick\s+every 1 seconds\s+-\s+never\s+no$/);

  const json = await dbbeat('ls', '--json');
  const tasks = JSON.parse(json.stdout) as { name: string; nextRun: { zone: string } | null; args: string }[];
  assert.deepEqual(
    tasks.map((task) => task.name),
    ['nightly report', 'tick'],
  );
  assert.equal(tasks[0]!.nextRun!.zone, 'Europe/Berlin');
  assert.equal(tasks[0]!.args, '[1, 2.0]');

  const show = await dbbeat('show', 'nightly report');
  assert.equal(show.code, 0);
  assert.match(show.stdout, /^schedule\s+30 2 \* \* \* \(Europe\/Berlin\)$/m);
  assert.match(show.stdout, /^next run\s+\d{4}-\d\d-\d\dT02:30:00\+01:00 \(Europe\/Berlin\)/m);
  assert.equal((JSON.parse((await dbbeat('show', 'tick', '--json')).stdout) as { enabled: boolean }).enabled, false);
});

test('a mistyped name is an error that suggests the closest name (exit 2); nothing is changed', async () => {
  const show = await dbbeat('show', 'nightly reprot');
  assert.equal(show.code, 2);
  assert.equal(show.stderr.trim(), 'dbbeat tasks: no task named "nightly reprot"; did you mean "nightly report"?');
  const enable = await dbbeat('enable', 'tick', 'tikc', '--json');
  assert.equal(enable.code, 2);
  assert.deepEqual(JSON.parse(enable.stderr), { error: 'no task named "tikc"; did you mean "tick"?' });
  const far = await dbbeat('rm', 'completely different');
  assert.equal(far.stderr.trim(), 'dbbeat tasks: no task named "completely different"');
  const { rows } = await sql.query<{ enabled: boolean }>(
    "SELECT enabled FROM django_celery_beat_periodictask WHERE name = 'tick'",
  );
  assert.equal(rows[0]!.enabled, false);
});

test('enable: the running beat starts sending; disable: it stops; run: one manual message; rm: gone', async () => {
  const from = beat.lines.length;
  const enable = await dbbeat('enable', 'tick');
  assert.equal(enable.code, 0, enable.stderr);
  assert.equal(enable.stdout.trim(), 'enabled "tick"');
  await beat.waitForLine((line) => line.msg === 'sent tick', 15_000, from);
  assert.equal((await dbbeat('enable', 'tick')).stdout.trim(), '1 already enabled');

  const disable = await dbbeat('disable', 'tick', '--json');
  assert.deepEqual(
    (JSON.parse(disable.stdout) as { name: string; changes: unknown }[]).map((write) => [write.name, write.changes]),
    [['tick', { enabled: { from: true, to: false } }]],
  );
  // Once the beat has seen the change, nothing more is sent.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const settled = beat.lines.length;
  await new Promise((resolve) => setTimeout(resolve, 2500));
  assert.ok(!beat.lines.slice(settled).some((line) => line.msg === 'sent tick'), 'no run after disable');

  const client = new Redis(redis.url());
  try {
    const run = await dbbeat('run', 'nightly report');
    assert.equal(run.code, 0, run.stderr);
    const taskId = run.stdout.trim();
    assert.match(taskId, /^[0-9a-f-]{36}$/);
    const envelopes = (await client.lrange('celery', 0, -1)).map(
      (text) => JSON.parse(text) as { headers: Record<string, unknown>; body: string },
    );
    const manual = envelopes.find((envelope) => envelope.headers.id === taskId);
    assert.ok(manual, 'the manual run is in the celery queue');
    assert.match(String(manual.headers.dbbeat_manual_run), /^cli:/);
    assert.equal(manual.headers.periodic_task_name, 'nightly report');
    assert.equal(
      Buffer.from(manual.body, 'base64').toString(),
      '[[1, 2.0],{},{"callbacks":null,"errbacks":null,"chain":null,"chord":null}]',
    );
  } finally {
    client.disconnect();
  }
  const { rows } = await sql.query<{ total_run_count: number; last_run_at: Date | null }>(
    "SELECT total_run_count, last_run_at FROM django_celery_beat_periodictask WHERE name = 'nightly report'",
  );
  assert.deepEqual(rows[0], { total_run_count: 0, last_run_at: null }, 'a manual run leaves the schedule alone');
  const history = await sql.query<{
    task_id: string;
    manual: boolean;
    scheduled_at: Date | null;
    state: string;
    queue: string;
  }>("SELECT task_id, manual, scheduled_at, state, queue FROM dbbeat_run WHERE periodic_task_name = 'nightly report'");
  assert.deepEqual(
    history.rows.map((r) => [r.manual, r.scheduled_at, r.state, r.queue]),
    [[true, null, 'SENT', 'celery']],
    'the manual run is in run history',
  );

  const rm = await dbbeat('rm', 'tick', 'nightly report');
  assert.equal(rm.code, 0, rm.stderr);
  assert.equal((await dbbeat('ls')).stdout.trim().split('\n').at(-1), '(no tasks)');
});
