// Our reading and writing of JSON compared with Python's json module, value
// for value and type for type: one Python process describes every case.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';

import {
  PyDict,
  PyJsonText,
  PyNumber,
  type PyValue,
  dumpPyJson,
  parsePyJson,
  toPyJson,
  toPyValue,
} from '../../src/broker/pyjson.js';

// For each JSON text: its value as a tree of [type, value] pairs, or the error.
const PYTHON_DESCRIBER = `
import json, sys
def typed(v):
    if v is None: return ['None']
    if isinstance(v, bool): return ['bool', v]
    if isinstance(v, int): return ['int', str(v)]
    if isinstance(v, float): return ['float', repr(v)]
    if isinstance(v, str): return ['str', v]
    if isinstance(v, list): return ['list', [typed(x) for x in v]]
    if isinstance(v, dict): return ['dict', [[k, typed(x)] for k, x in v.items()]]
    raise TypeError(type(v))
for line in sys.stdin:
    text = json.loads(line)
    try:
        out = {'ok': typed(json.loads(text))}
    except ValueError as exc:
        out = {'error': str(exc)}
    sys.stdout.write(json.dumps(out) + '\\n')
`;

type Typed = [string, ...unknown[]];
type Described = { ok: Typed } | { error: string };

async function describeInPython(texts: string[]): Promise<Described[]> {
  const child = spawn('/usr/bin/python3', ['-c', PYTHON_DESCRIBER], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdin.end(texts.map((t) => JSON.stringify(t)).join('\n') + '\n');
  assert.equal(await exited, 0, stderr);
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Described);
}

function typed(value: PyValue): Typed {
  if (value === null) return ['None'];
  if (typeof value === 'boolean') return ['bool', value];
  if (typeof value === 'string') return ['str', value];
  if (value instanceof PyNumber) return [value.kind, value.repr];
  if (Array.isArray(value)) return ['list', value.map(typed)];
  return ['dict', value.entries.map(([k, v]) => [k, typed(v)])];
}

function ours(text: string): Described {
  try {
    return { ok: typed(parsePyJson(text)) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

const ODD_TEXTS = [
  '[9007199254740993, 9007199254740992, -9007199254740993]',
  '[1.0, 1e16, 1E16, 1e+16, -0.0, -0, 0, 0.0, 1e-7, 5e-324, 1e-400, 1E400, -1e400]',
  '[NaN, Infinity, -Infinity]',
  '{"a": NaN, "b": [Infinity]}',
  '[123456789012345678901234567890123456789012345678901234567890]',
  '[0.1, 0.30000000000000004, 1.7976931348623157e308, 2.5e-3, 100.00]',
  '{"b": 1, "2": 2, "b": 3, "1": {"x": 1, "x": 2.0}}',
  '{"__proto__": {"a": 1}, "constructor": 2}',
  '["\\ud83d\\ude00", "\\ud800", "\\u00e9\\n\\t\\"\\\\\\/", "日本語"]',
  ' \t\n[ 1 , 2 ]\r\n ',
  '{}',
  '[]',
  '"just a string"',
  'true',
  'null',
  '7',
  // Python rejects all of these.
  '',
  '[1,]',
  '{"a":1,}',
  '[01]',
  '[1.]',
  '[.5]',
  '[+1]',
  '[nan]',
  '[-NaN]',
  '[infinity]',
  "['single']",
  '[1] x',
  '{"a" 1}',
  '{1: 2}',
  '["tab\tinside"]',
  '["\\x"]',
  '["\\u12"]',
  '\ufeff[1]',
  '[1e]',
  '[-]',
  '["unterminated',
  '[' + '9'.repeat(4301) + ']',
  '[' + '9'.repeat(4300) + ']',
];

describe('pyjson reads JSON as Python does', () => {
  test('odd texts: the same values and types, and the same texts rejected', async () => {
    const python = await describeInPython(ODD_TEXTS);
    ODD_TEXTS.forEach((text, i) => {
      const expected = python[i]!;
      const got = ours(text);
      if ('ok' in expected) assert.deepEqual(got, expected, text.slice(0, 80));
      else
        assert.ok(
          'error' in got,
          `Python rejects ${JSON.stringify(text.slice(0, 80))} (${expected.error}); we read ${JSON.stringify(got).slice(0, 200)}`,
        );
    });
  });

  test('what we write, Python reads back to the same values and types', async () => {
    const accepted = ODD_TEXTS.filter((text) => 'ok' in ours(text));
    const dumped = accepted.map((text) => dumpPyJson(parsePyJson(text)));
    const python = await describeInPython(dumped);
    accepted.forEach((text, i) =>
      assert.deepEqual(python[i], ours(text), `${text.slice(0, 80)} -> ${dumped[i]!.slice(0, 80)}`),
    );
  });

  test('JavaScript values: whole numbers are ints, others floats, bigint and PyNumber keep their type', async () => {
    const value = {
      small: 3,
      fraction: 1.5,
      huge: 1e21,
      negZero: -0,
      nan: NaN,
      inf: -Infinity,
      big: 9007199254740993n,
      float: PyNumber.float(1),
      int: PyNumber.int('9007199254740993'),
      lossless: { isLosslessNumber: true, value: '1e16' },
      when: new Date('2026-01-02T03:04:05.000Z'),
      list: [undefined, 'x'],
      skipped: undefined,
    };
    const text = toPyJson(value);
    const [python] = await describeInPython([text]);
    assert.deepEqual(python, {
      ok: [
        'dict',
        [
          ['small', ['int', '3']],
          ['fraction', ['float', '1.5']],
          ['huge', ['float', '1e+21']],
          ['negZero', ['float', '-0.0']],
          ['nan', ['float', 'nan']],
          ['inf', ['float', '-inf']],
          ['big', ['int', '9007199254740993']],
          ['float', ['float', '1.0']],
          ['int', ['int', '9007199254740993']],
          ['lossless', ['float', '1e+16']],
          ['when', ['str', '2026-01-02T03:04:05.000Z']],
          ['list', ['list', [['None'], ['str', 'x']]]],
        ],
      ],
    });
  });

  test('errors name the path', () => {
    assert.throws(() => toPyValue({ a: [1, () => 1] }, 'args'), /args\.a\[1\]: a function cannot be sent as JSON/);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    assert.throws(() => toPyValue(cycle, 'kwargs'), /kwargs\.self: a circular structure/);
    assert.throws(() => toPyValue({ isLosslessNumber: true, value: 'abc' }, 'x'), /x: "abc" is not a JSON number/);
  });

  test('stored text is kept as it is', () => {
    const text = '[1.0, 9007199254740993, NaN]';
    const payload = PyJsonText.parse(text);
    assert.equal(payload.text, text);
    assert.ok(payload.value instanceof Array);
    assert.ok(PyJsonText.parse('{"a": 1}').value instanceof PyDict);
  });
});
