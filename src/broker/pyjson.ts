// JSON as Python's `json` module reads and writes it, without a round trip
// through JavaScript numbers. args/kwargs/headers are the user's data: a Celery
// worker must see the values that `json.loads(row.args)` gives in
// django-celery-beat, so ints keep every digit (9007199254740993), floats stay
// floats (`1.0`, `1e16`, `-0.0`), and Python's `NaN`/`Infinity`/`-Infinity`
// are accepted and written back. Objects keep their key order and Python's
// duplicate-key rule (the last value wins, at the first key's position).
//
// Why not lossless-json: it rejects duplicate keys and NaN/Infinity, both of
// which Python's json accepts (and django-celery-beat sends), and it keeps no
// int/float distinction of its own; the grammar (pyjson-parse.ts) is CPython's
// (Lib/json/scanner.py, decoder.py and the C scanner) and is short.
//
// This module writes (dumpPyJson, toPyJson) and holds PyJsonText; the values are in
// pyjson-values.ts, the parser in pyjson-parse.ts, both re-exported here.

import { parsePyJson } from './pyjson-parse.js';
import { PyDict, PyJsonError, PyNumber, type PyValue } from './pyjson-values.js';

export { parsePyJson } from './pyjson-parse.js';
export { PyDict, PyJsonError, PyNumber, type PyValue, pythonFloatRepr } from './pyjson-values.js';

/**
 * Python's json.dumps of a value (compact separators). Floats as Python writes
 * them (`1.0`, `1e+16`, `NaN`, `-Infinity`), ints with every digit.
 */
export function dumpPyJson(value: PyValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof PyNumber) return value.json;
  if (Array.isArray(value)) return `[${value.map(dumpPyJson).join(',')}]`;
  return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${dumpPyJson(v)}`).join(',')}}`;
}

/** Whether a value looks like lossless-json's LosslessNumber (accepted without depending on it). */
function isLosslessNumberLike(value: object): value is { value: string } {
  return (
    (value as { isLosslessNumber?: unknown }).isLosslessNumber === true &&
    typeof (value as { value?: unknown }).value === 'string'
  );
}

/**
 * Reads a JavaScript value as the Python value it stands for, the way a user
 * of our API means it:
 * - a `number` is what Python's json reads from JSON.stringify's text (`3` an
 *   int, `1.5` and `1e21` floats), except that `NaN` and `±Infinity` stay
 *   floats (JSON.stringify would write null) and `-0` is the float `-0.0`;
 * - a `bigint` is an int with every digit;
 * - `PyNumber.float(1)` is the float `1.0`, `PyNumber.int('9007199254740993')` an int;
 *   a lossless-json `LosslessNumber` is read by its text (`1.0` a float, `12` an int);
 * - strings, booleans, null, arrays and plain objects map as JSON.stringify
 *   maps them (`toJSON()` is honoured, so a Date becomes its ISO string;
 *   `undefined` in an object is left out, in an array it becomes null).
 * @param path where the value sits, for error messages (`args[2].x`)
 * @throws PyJsonError for functions, symbols and cycles, naming the path
 */
export function toPyValue(value: unknown, path = 'value'): PyValue {
  return convert(value, path, new Set());
}

function convert(value: unknown, path: string, seen: Set<object>): PyValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'undefined':
      return null;
    case 'number': {
      if (!Number.isFinite(value) || Object.is(value, -0)) return PyNumber.float(value);
      // What Python reads from JSON.stringify's text: `3` an int, `1.5` and `1e+21` floats.
      const text = String(value);
      return /[.eE]/.test(text) ? PyNumber.float(value) : PyNumber.int(text);
    }
    case 'bigint':
      return PyNumber.int(value);
    case 'function':
    case 'symbol':
      throw new PyJsonError(`${path}: a ${typeof value} cannot be sent as JSON`);
  }
  if (value === null) return null;
  const object = value as object;
  if (object instanceof PyNumber || object instanceof PyDict) return object;
  if (isLosslessNumberLike(object)) return parseNumberText(object.value, path);
  if (seen.has(object)) throw new PyJsonError(`${path}: a circular structure cannot be sent as JSON`);
  seen.add(object);
  try {
    if (Array.isArray(object)) return object.map((item, index) => convert(item, `${path}[${index}]`, seen));
    const toJSON = (object as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return convert((toJSON as () => unknown).call(object), path, seen);
    const entries: Array<[string, PyValue]> = [];
    for (const [key, item] of Object.entries(object)) {
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
      entries.push([key, convert(item, `${path}.${key}`, seen)]);
    }
    return new PyDict(entries);
  } finally {
    seen.delete(object);
  }
}

function parseNumberText(text: string, path: string): PyNumber {
  try {
    const parsed = parsePyJson(text);
    if (parsed instanceof PyNumber) return parsed;
  } catch {
    // reported below
  }
  throw new PyJsonError(`${path}: ${JSON.stringify(text)} is not a JSON number`);
}

/**
 * Python's json.dumps of a JavaScript value read with {@link toPyValue}.
 * @throws PyJsonError naming the path of a value that cannot be sent
 */
export function toPyJson(value: unknown, path = 'value'): string {
  return dumpPyJson(toPyValue(value, path));
}

/**
 * A JSON payload (args, kwargs or headers) as text and as the value Python
 * reads from it. From the database the text is the user's, sent as it is;
 * from JavaScript values it is written by {@link toPyJson}.
 */
export class PyJsonText {
  private constructor(
    /** JSON text as Python's json reads it (may hold NaN/Infinity). */
    readonly text: string,
    readonly value: PyValue,
  ) {}

  /** @throws PyJsonError when Python's json.loads would reject `text` */
  static parse(text: string): PyJsonText {
    return new PyJsonText(text, parsePyJson(text));
  }

  /** A JavaScript value read with {@link toPyValue}. */
  static of(value: unknown, path = 'value'): PyJsonText {
    if (value instanceof PyJsonText) return value;
    const py = toPyValue(value, path);
    return new PyJsonText(dumpPyJson(py), py);
  }
}
