// The array literals the beat's batch statements send (src/db/postgres/array-literal.ts),
// read back by PostgreSQL and PGlite: text byte for byte (quotes, backslashes, commas,
// braces, 'NULL', empty, non-ASCII), numbers, booleans, nulls; and epoch milliseconds
// turned into exactly the timestamptz a Date of that time is.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { openDatabase, type OpenDatabase } from '../../src/db/open.js';
import {
  booleanArray,
  epochMsToTimestamptz,
  nullableNumberArray,
  numberArray,
  textArray,
} from '../../src/db/postgres/array-literal.js';
import { createTempDatabase } from '../support/postgres.js';

const TEXTS = [
  'plain',
  '',
  'NULL',
  'null',
  ' spaced out ',
  'a,b',
  '{braces}',
  'say "hi"',
  'back\\slash',
  '\\"both\\"',
  "it's",
  'zoë ✓ 日本',
  'tab\tnewline\n',
  null,
];

const backends: Array<{ name: string; open(): Promise<{ db: OpenDatabase; drop(): Promise<void> }> }> = [
  {
    name: 'PostgreSQL',
    async open() {
      const temp = await createTempDatabase('dbbeat_array_literal');
      const db = await openDatabase({ databaseUrl: temp.url });
      return { db, drop: () => temp.drop() };
    },
  },
  {
    name: 'PGlite',
    async open() {
      const dataDir = await mkdtemp(join(tmpdir(), 'dbbeat-array-literal-'));
      const db = await openDatabase({ dataDir });
      return { db, drop: () => rm(dataDir, { recursive: true, force: true }) };
    },
  },
];

for (const backend of backends) {
  describe(`array literals on ${backend.name}`, () => {
    let opened: { db: OpenDatabase; drop(): Promise<void> } | undefined;
    let db: OpenDatabase;
    before(async () => {
      opened = await backend.open();
      db = opened.db;
    });
    after(async () => {
      await opened?.db.close();
      await opened?.drop();
    });

    test('text arrays come back element for element', async () => {
      const [row] = await db.query<{ value: (string | null)[] }>('SELECT $1::text[] AS value', [textArray(TEXTS)]);
      assert.deepEqual(row!.value, TEXTS);
      const [empty] = await db.query<{ n: number }>('SELECT cardinality($1::text[]) AS n', [textArray([])]);
      assert.equal(empty!.n, 0);
    });

    test('numbers, nulls and booleans come back as they were', async () => {
      const ints = [0, 1, -7, 2 ** 31 - 1, 123456];
      const floats = [1764540000000, 0, -1, 1764540000123.5];
      const [row] = await db.query<{ i: number[]; f: number[]; n: (number | null)[]; b: boolean[] }>(
        'SELECT $1::int[] AS i, $2::float8[] AS f, $3::int[] AS n, $4::bool[] AS b',
        [numberArray(ints), numberArray(floats), nullableNumberArray([5, null, -3]), booleanArray([true, false, true])],
      );
      assert.deepEqual(row!.i, ints);
      assert.deepEqual(row!.f, floats);
      assert.deepEqual(row!.n, [5, null, -3]);
      assert.deepEqual(row!.b, [true, false, true]);
    });

    test('epoch milliseconds become the exact timestamptz of that Date (to_timestamp(ms / 1000) is not)', async () => {
      // Spread over 2001-2255; many of these land a microsecond off through to_timestamp.
      const times = Array.from({ length: 20_000 }, (_, index) => 1_000_000_000_000 + index * 400_000_017);
      const rows = await db.query<{ exact: number; via_date: number; off: number }>(
        `SELECT count(*) FILTER (WHERE ${epochMsToTimestamptz('ms')} = d)::int AS exact,
                count(*) FILTER (WHERE floor(extract(epoch FROM ${epochMsToTimestamptz('ms')}) * 1000) = ms)::int AS via_date,
                count(*) FILTER (WHERE to_timestamp(ms / 1000) <> d)::int AS off
         FROM unnest($1::float8[], $2::timestamptz[]) AS t(ms, d)`,
        [numberArray(times), times.map((ms) => new Date(ms))],
      );
      assert.equal(rows[0]!.exact, times.length);
      assert.equal(rows[0]!.via_date, times.length);
      assert.ok(rows[0]!.off > 0, 'the float division this replaces does land off (else this test proves nothing)');
    });
  });
}
