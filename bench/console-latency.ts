// The console's latency with 10,000 tasks: GET /api/tasks over real HTTP (p50/p99 of
// 300 requests: first pages, deep pages, sorted, searched, filtered), and the web
// page's load in headless Chromium until the first 50 rows show (median of 5).
//
//   npx tsx bench/console-latency.ts
//
// Needs PostgreSQL on 127.0.0.1:5432 and Debian's chromium; creates and drops its own
// database; everything stays on loopback.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';
import pino from 'pino';
import { chromium } from 'playwright-core';

import type { Broker } from '../src/broker/types.js';
import { migrate } from '../src/db/migrate.js';
import { openDatabase } from '../src/db/open.js';
import { startConsoleServer } from '../src/http/server.js';
import { createTempDatabase } from '../test/support/postgres.js';

const TASKS = 10_000;
const REQUESTS = 300;
const TOKEN = 'bench-token-0123456789abcdef';

const temp = await createTempDatabase('dbbeat_console_bench');
const db = await openDatabase({ databaseUrl: temp.url });
try {
  await migrate(db);
  const sql = new pg.Client({ connectionString: temp.url });
  await sql.connect();
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Shanghai', 'Australia/Sydney'];
  await sql.query(
    `INSERT INTO django_celery_beat_crontabschedule (minute, hour, day_of_week, day_of_month, month_of_year, timezone)
     SELECT (g % 60)::text, '*/' || (1 + g % 6), '*', '*', '*', ($1::text[])[1 + g % 5] FROM generate_series(0, 99) g`,
    [zones],
  );
  await sql.query(
    `INSERT INTO django_celery_beat_intervalschedule (every, period) SELECT 10 + g, 'seconds' FROM generate_series(0, 99) g`,
  );
  await sql.query(
    `INSERT INTO django_celery_beat_periodictask (name, task, args, kwargs, headers, queue, crontab_id, interval_id, enabled, one_off,
       total_run_count, date_changed, description, last_run_at)
     SELECT 'task ' || lpad(g::text, 5, '0'), 'proj.tasks.t' || (g % 50), '[' || g || ', "x"]', '{"n": ' || g || '}', '{}',
       CASE WHEN g % 3 = 0 THEN 'fast' END,
       CASE WHEN g % 2 = 0 THEN 1 + g % 100 END, CASE WHEN g % 2 = 1 THEN 1 + g % 100 END,
       g % 10 <> 0, false, g % 500, now(), 'benchmark task number ' || g, CASE WHEN g % 4 = 0 THEN now() - interval '1 minute' END
     FROM generate_series(1, $1) g`,
    [TASKS],
  );
  await sql.query('ANALYZE');
  await sql.end();

  // No broker: this measures reads only.
  const broker: Broker = {
    kind: 'none',
    publish: () => Promise.resolve([]),
    ping: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  const server = await startConsoleServer({
    database: db,
    broker,
    auth: { token: TOKEN, users: new Map(), required: true },
    host: '127.0.0.1',
    port: 0,
    log: pino({ level: 'warn' }),
  });
  const queries = [
    '/api/tasks',
    '/api/tasks?offset=5000',
    '/api/tasks?offset=9950',
    '/api/tasks?sort=last_run_at&order=desc',
    '/api/tasks?q=number 77',
    '/api/tasks?enabled=false&kind=crontab',
    '/api/tasks?queue=fast&sort=total_run_count&order=desc&offset=100',
    '/api/tasks?limit=500',
  ];
  const timings = new Map<string, number[]>();
  for (let i = 0; i < 20; i++)
    await fetch(`${server.url}${queries[i % queries.length]}`, { headers: { authorization: `Bearer ${TOKEN}` } }); // warm up
  for (let i = 0; i < REQUESTS; i++) {
    const path = queries[i % queries.length]!;
    const started = performance.now();
    const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = (await response.json()) as { total: number };
    if (response.status !== 200 || body.total === undefined) throw new Error(`${path}: ${response.status}`);
    const list = timings.get(path) ?? [];
    list.push(performance.now() - started);
    timings.set(path, list);
  }
  const all = [...timings.values()].flat().sort((a, b) => a - b);
  const pct = (sorted: number[], p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  console.log(
    `GET /api/tasks with ${TASKS} tasks, ${REQUESTS} requests: p50 ${pct(all, 50).toFixed(1)} ms, p99 ${pct(all, 99).toFixed(1)} ms, max ${all.at(-1)!.toFixed(1)} ms`,
  );
  for (const [path, list] of timings) {
    const sorted = list.sort((a, b) => a - b);
    console.log(
      `  ${path.padEnd(70)} p50 ${pct(sorted, 50).toFixed(1).padStart(6)} ms  p99 ${pct(sorted, 99).toFixed(1).padStart(6)} ms`,
    );
  }

  const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'dbbeat-bench-chromium-')), {
    executablePath: process.env.DBBEAT_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  await page.request.post(`${server.url}/api/session`, { data: { token: TOKEN } });
  const loads: number[] = [];
  for (let i = 0; i < 6; i++) {
    await page.goto(server.url);
    // The page's own clock: ms from the start of navigation until 50 rows are in the table.
    await page.waitForFunction(() => document.querySelectorAll('tr[data-task]').length >= 50, undefined, {
      polling: 'raf',
    });
    const shownAt = await page.evaluate(() => performance.now());
    if (i > 0) loads.push(shownAt); // the first load warms Chromium's caches
  }
  loads.sort((a, b) => a - b);
  console.log(
    `page load (navigation start until the first 50 of ${TASKS} tasks show): median ${pct(loads, 50).toFixed(0)} ms, max ${loads.at(-1)!.toFixed(0)} ms (5 loads)`,
  );
  await browser.close();
  await server.close();
} finally {
  await db.close();
  await temp.drop();
}
