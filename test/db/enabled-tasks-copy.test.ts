// The load's page read by binary COPY (postgres/copy-out.ts, enabled-tasks-copy.ts) gives
// exactly the rows LOAD_ENABLED_TASKS_RANGE gives (the query PGlite still runs): NULLs,
// text with tabs, newlines, backslashes and non-ASCII characters, times before 1970 and
// 2000 with microseconds (rounded down to the ms as floor() does), ±infinity. A decoder
// out of step with its SELECT, and a server error, fail the read and leave the pool usable.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import type { Database } from '../../src/db/database.js';
import { openDatabase, type OpenDatabase } from '../../src/db/open.js';
import type { BinaryFields } from '../../src/db/postgres/copy-out.js';
import { decodeOwnTaskRow, enabledTasksCopy } from '../../src/db/postgres/enabled-tasks-copy.js';
import { LOAD_ENABLED_TASKS_RANGE } from '../../src/db/postgres/statements.js';
import { PostgresStore } from '../../src/db/postgres/store.js';
import type { OwnTaskRow } from '../../src/db/store.js';
import { createMigratedDatabase, type TempDatabase } from '../support/postgres.js';

let temp: TempDatabase;
let db: OpenDatabase;
before(async () => {
  temp = await createMigratedDatabase('dbbeat_copy');
  db = await openDatabase({ databaseUrl: temp.url });
  const [interval] = await db.query<{ id: number }>(
    `INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES (60, 'seconds') RETURNING id`,
  );
  const [crontab] = await db.query<{ id: number }>(
    `INSERT INTO django_celery_beat_crontabschedule (minute, hour, day_of_week, day_of_month, month_of_year, timezone)
     VALUES ('5', '*', '*', '*', '*', 'Europe/Paris') RETURNING id`,
  );
  const rows: [string, string, string, string | null, string | null, string | null, number | null][] = [
    // name, args, expires, start_time, last_run_at, queue, priority
    ['plain', '[1, 2]', '2031-02-03 04:05:06.789012+00', null, '2026-12-01 03:00:00+00', 'q', 3],
    [
      'tab\tnew\nline\\back',
      '["\\t", "é€😀"]',
      '1969-12-31 23:59:59.9995+00',
      '1999-12-31 23:59:59.999999+00',
      null,
      null,
      null,
    ],
    ['héllo wörld 日本', '[]', 'infinity', '-infinity', 'infinity', '', 0],
    ['before 1900', '[null]', '1850-06-15 12:34:56.000001+00', '2000-01-01 00:00:00+00', '-infinity', 'q\\x', 255],
    [
      'µs rounding',
      '["x"]',
      '2000-01-01 00:00:00.0009+00',
      '1999-12-31 23:59:59.0001+00',
      '1970-01-01 00:00:00.0005+00',
      null,
      null,
    ],
  ];
  let i = 0;
  for (const [name, args, expires, start, last, queue, priority] of rows) {
    i++;
    await db.query(
      `INSERT INTO django_celery_beat_periodictask
         (name, task, args, kwargs, headers, queue, exchange, routing_key, priority, expires, expire_seconds,
          one_off, start_time, enabled, last_run_at, total_run_count, date_changed, description, crontab_id, interval_id)
       VALUES ($1, 'proj.tasks.add', $2, '{"a": "\\\\"}', '{}', $3, $4, $5, $6, $7, $8, $9, $10, true, $11, $12,
               '2026-11-30 10:11:12.131415+00', '', $13, $14)`,
      [
        name,
        args,
        queue,
        i % 2 === 0 ? 'ex' : null,
        i % 2 === 0 ? 'rk' : null,
        priority,
        expires,
        i === 2 ? 30 : null,
        i % 2 === 1,
        start,
        last,
        i * 1000,
        i % 2 === 0 ? crontab!.id : null,
        i % 2 === 0 ? null : interval!.id,
      ],
    );
  }
  // A disabled task, and the highest id an integer column holds.
  await db.query(
    `INSERT INTO django_celery_beat_periodictask
       (id, name, task, args, kwargs, headers, enabled, total_run_count, date_changed, description, interval_id, one_off)
     VALUES (2147483646, 'disabled', 't', '[]', '{}', '{}', false, 0, now(), '', $1, false),
            (2147483647, 'last id', 't', '[]', '{}', '{}', true, 2147483647, now(), '', $1, true)`,
    [interval!.id],
  );
});
after(async () => {
  await db?.close();
  await temp?.drop();
});

const copyOf = (): NonNullable<Database['copyOut']> => {
  assert.ok(typeof db.copyOut === 'function', 'a PostgreSQL server has copyOut');
  return (sql, decode) => db.copyOut!(sql, decode);
};

test('the COPY read gives the rows the range query gives, in every range and limit', async () => {
  const copy = copyOf();
  const top = 2147483647;
  for (const [afterId, upTo, limit] of [
    [0, top, 100],
    [0, top, 2],
    [2, 4, 100],
    [0, 0, 10],
    [4, top, 1],
    [2147483646, top, 5],
  ] as const) {
    const byCopy = await copy(enabledTasksCopy(afterId, upTo, limit), decodeOwnTaskRow);
    const byQuery = await db.query<OwnTaskRow>(LOAD_ENABLED_TASKS_RANGE, [afterId, upTo, limit]);
    assert.deepStrictEqual(byCopy, byQuery, `range (${afterId}, ${upTo}] limit ${limit}`);
  }
  const all = await copy(enabledTasksCopy(0, top, 100), decodeOwnTaskRow);
  assert.deepEqual(
    all.map((row) => row.name),
    ['plain', 'tab\tnew\nline\\back', 'héllo wörld 日本', 'before 1900', 'µs rounding', 'last id'],
  );
  const rounding = all.find((row) => row.name === 'µs rounding')!;
  assert.deepEqual(
    [rounding.expires, rounding.start_time, rounding.last_run_at],
    [Date.parse('2000-01-01T00:00:00.000Z'), Date.parse('1999-12-31T23:59:59.000Z'), 0],
  );
  assert.equal(all.find((row) => row.name === 'tab\tnew\nline\\back')!.expires, -1);
});

test('the store pages are the same with and without COPY (PGlite runs the query)', async () => {
  const pages = async (store: PostgresStore) => {
    const rows: OwnTaskRow[] = [];
    for (let afterId = 0; ;) {
      const page = await store.loadEnabledPage(afterId, 2);
      rows.push(...page.tasks);
      if (page.tasks.length < 2) return rows;
      afterId = page.tasks[page.tasks.length - 1]!.id;
    }
  };
  const withCopy = await pages(new PostgresStore(db));
  const withoutCopy = await pages(new PostgresStore({ query: db.query.bind(db), listen: db.listen.bind(db) }));
  assert.equal(withCopy.length, 6);
  assert.deepStrictEqual(withCopy, withoutCopy);
});

test('integers of every width, and a decoder out of step with its SELECT fails the read', async () => {
  const copy = copyOf();
  const ints = (f: BinaryFields) => [f.integer(), f.integer(), f.integer(), f.integer()];
  assert.deepEqual(
    await copy(
      `COPY (SELECT (-2)::int2, (-70000)::int4, 9007199254740991::int8, (-9007199254740991)::int8) TO STDOUT (FORMAT binary)`,
      ints,
    ),
    [[-2, -70000, 9007199254740991, -9007199254740991]],
  );
  await assert.rejects(
    copy(`COPY (SELECT 1::int4, 2::int4) TO STDOUT (FORMAT binary)`, (f) => f.integer()),
    /read 1 of 2 fields/,
  );
  await assert.rejects(
    copy(`COPY (SELECT 'x'::text) TO STDOUT (FORMAT binary)`, (f) => [f.text(), f.text()]),
    /more than its 1 fields/,
  );
  await assert.rejects(
    copy(`COPY (SELECT 1::int4) TO STDOUT (FORMAT binary)`, (f) => f.boolean()),
    /boolean of 4 bytes/,
  );
  await assert.rejects(
    copy(`COPY (SELECT 1 FROM no_such_table) TO STDOUT (FORMAT binary)`, () => 0),
    /no_such_table/,
  );
  // Nothing is left in a bad state: the pool answers, and an empty result is an empty list.
  assert.deepEqual(await copy(`COPY (SELECT 1::int4 WHERE false) TO STDOUT (FORMAT binary)`, (f) => f.integer()), []);
  assert.deepEqual(await db.query('SELECT 1 AS one'), [{ one: 1 }]);
});

test('texts repeated down the rows, and texts that nearly repeat, read as the query reads them', async () => {
  const copy = copyOf();
  const long = 'x'.repeat(64);
  // Each value follows one it equals or nearly equals: same bytes, one byte off, one byte
  // longer, non-ASCII of the same length in characters, longer than the compared bytes.
  // The last pair: three characters whose codes are the next text's three UTF-8 bytes
  // (U+9A40 is E9 A9 80), which only the rule "ASCII texts alone are kept" tells apart.
  const values = ['{}', '{}', '{]', '{}}', '', '', null, '{}', 'é', 'é', 'e', 'ée', long, long, `${long}y`, `${long}y`];
  values.push('\u00e9\u00a9\u0080', String.fromCodePoint(0x9a40));
  const select = `SELECT v FROM unnest($1::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n`;
  const queried = (await db.query<{ v: string | null }>(select, [values])).map((row) => row.v);
  assert.deepEqual(queried, values);
  const literal = `ARRAY[${values.map((v) => (v === null ? 'NULL' : `'${v}'`)).join(', ')}]::text[]`;
  const copied = await copy(
    `COPY (SELECT v, v AS again FROM unnest(${literal}) WITH ORDINALITY AS t(v, n) ORDER BY n) TO STDOUT (FORMAT binary)`,
    (f) => [f.text(), f.text()],
  );
  assert.deepEqual(
    copied,
    values.map((v) => [v, v]),
  );
});
