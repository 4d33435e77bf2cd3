// saferepr compared, character for character, with Celery's own on the same
// JSON values: one Python process formats every generated value.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';

import { parsePyJson } from '../../src/broker/pyjson.js';
import { pythonFloatRepr, saferepr } from '../../src/broker/saferepr.js';

const PYTHON_FORMATTER = `
import json, sys
from celery.utils.saferepr import saferepr
for line in sys.stdin:
    case = json.loads(line)
    out = saferepr(json.loads(case['json']), case['maxlen'], case['maxlevels'])
    sys.stdout.write(json.dumps(out) + '\\n')
`;

interface Case {
  json: string;
  maxlen: number | null;
  maxlevels: number;
}

/** Runs Celery's saferepr on every case in one Python process. */
async function celerySaferepr(cases: Case[]): Promise<string[]> {
  const child = spawn('/usr/bin/python3', ['-c', PYTHON_FORMATTER], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdin.end(cases.map((c) => JSON.stringify(c)).join('\n') + '\n');
  const code = await exited;
  assert.equal(code, 0, stderr);
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as string);
}

/** A small seeded PRNG so a failure can be reproduced. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const SAMPLE_STRINGS = [
  '',
  'a',
  "it's",
  'say "hi"',
  'back\\slash',
  'new\nline',
  'tab\t',
  'ünïcødé',
  '日本語',
  '😀 emoji',
  'a b c d e',
  ' ',
  "''",
  'x'.repeat(300),
  'word '.repeat(100),
];
const SAMPLE_NUMBERS = [
  0,
  1,
  -1,
  42,
  1.5,
  -2.25,
  0.1,
  1e-5,
  0.0001,
  123456.789,
  1e15 + 0.5,
  1e16,
  1.5e16,
  1e21,
  1e22,
  2 ** 53,
  3.14159,
  1e-7,
  5e-324,
  1.7976931348623157e308,
  100.0,
];

function generate(next: () => number, depth: number): unknown {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const roll = next();
  if (depth > 5 || roll < 0.5) {
    const kind = Math.floor(next() * 5);
    if (kind === 0) return null;
    if (kind === 1) return next() < 0.5;
    if (kind === 2) return pick(SAMPLE_NUMBERS);
    return pick(SAMPLE_STRINGS);
  }
  const size = Math.floor(next() * 6);
  if (roll < 0.75) return Array.from({ length: size }, () => generate(next, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = 0; i < size; i++)
    object[pick(['k', "it's", 'ключ', 'a b', String(i), `key${i}`])] = generate(next, depth + 1);
  return object;
}

describe('saferepr matches celery.utils.saferepr', () => {
  test('hand-picked values', async () => {
    const values: unknown[] = [
      [],
      {},
      [1, 'a', { x: [1, 2] }],
      [[[[1]]]],
      { a: { b: { c: { d: 1 } } } },
      [null, true, false],
      SAMPLE_NUMBERS,
      SAMPLE_STRINGS,
      ['x'.repeat(2000)],
      Array.from({ length: 500 }, (_, i) => i),
      Array.from({ length: 300 }, (_, i) => ({ [`k${i}`]: [i, 'v'] })),
      ['a'.repeat(1024)],
      ['a'.repeat(1021)],
      'plain string',
      // Around the limit, where the repr written whole gives way to the cut one.
      ...[1017, 1018, 1019, 1020, 1022, 1023, 1025].map((n) => ['a'.repeat(n)]),
      ...[1015, 1016, 1017, 1018, 1019].map((n) => ({ [`${'k'.repeat(n)}`]: 1 })),
      ...[1018, 1019, 1020, 1021].map((n) => 'é'.repeat(n)),
      ['😀'.repeat(511), 1],
      ['😀'.repeat(1020)],
    ];
    const cases: Case[] = [];
    for (const value of values)
      for (const maxlen of [null, 1024, 10, 1]) cases.push({ json: JSON.stringify(value), maxlen, maxlevels: 3 });
    const expected = await celerySaferepr(cases);
    cases.forEach((c, i) =>
      assert.equal(saferepr(parsePyJson(c.json), c.maxlen, c.maxlevels), expected[i], c.json.slice(0, 200)),
    );
  });

  test('2,000 generated values, with and without the 1,024 limit', async () => {
    const next = random(20261126);
    const cases: Case[] = [];
    for (let i = 0; i < 1000; i++) {
      const value = [generate(next, 0), generate(next, 0)];
      cases.push({ json: JSON.stringify(value), maxlen: 1024, maxlevels: 3 });
      cases.push({ json: JSON.stringify(value), maxlen: Math.floor(next() * 60) + 1, maxlevels: 3 });
    }
    const expected = await celerySaferepr(cases);
    let mismatches = 0;
    cases.forEach((c, i) => {
      const ours = saferepr(parsePyJson(c.json), c.maxlen, c.maxlevels);
      if (ours !== expected[i] && mismatches++ < 3)
        assert.equal(ours, expected[i], `${c.maxlen} ${c.json.slice(0, 300)}`);
    });
    assert.equal(mismatches, 0);
  });

  test('numbers and dicts as Python reads them from the stored text', async () => {
    const texts = [
      '[9007199254740993, 1.0, 1e16, -0.0, NaN, Infinity, -Infinity, 1E400, -0, 0.1, 1.5e-7, 2.5E+3]',
      '[123456789012345678901234567890123456789, -98765432109876543210, 1e22, 1e-320, 100.0]',
      '{"b": 1, "2": 2, "b": 3, "a": {"1": 1.0, "0": [NaN]}}',
      '{"x": [1e16, 9007199254740993]}',
    ];
    const cases: Case[] = [];
    for (const json of texts) for (const maxlen of [null, 1024, 12]) cases.push({ json, maxlen, maxlevels: 3 });
    const expected = await celerySaferepr(cases);
    cases.forEach((c, i) => assert.equal(saferepr(parsePyJson(c.json), c.maxlen, c.maxlevels), expected[i], c.json));
  });

  test('float repr follows Python', () => {
    assert.equal(pythonFloatRepr(1), '1.0');
    assert.equal(pythonFloatRepr(1e16), '1e+16');
    assert.equal(pythonFloatRepr(1.5e-5), '1.5e-05');
    assert.equal(pythonFloatRepr(0.0001), '0.0001');
    assert.equal(pythonFloatRepr(-123.25), '-123.25');
  });
});
