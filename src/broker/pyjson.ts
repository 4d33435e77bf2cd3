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
// int/float distinction of its own; the grammar below is CPython's
// (Lib/json/scanner.py, decoder.py and the C scanner) and is short.

/** Python's int size limit for str→int (3.11 `sys.get_int_max_str_digits()`); json.loads fails past it. */
const MAX_INT_DIGITS = 4300;

/** A number as Python holds it after `json.loads`: an int of any size, or a float (an IEEE double). */
export class PyNumber {
  private constructor(
    /** `int` or `float`: the Python type the worker gets. */
    readonly kind: 'int' | 'float',
    /** Python's `repr()`: `9007199254740993`, `1.0`, `1e+16`, `-0.0`, `nan`, `inf`. */
    readonly repr: string,
    /** The nearest double (exact for floats). */
    readonly value: number,
  ) {}

  /** A Python int: from a bigint, a safe integer, or decimal digits (`"-12"`). */
  static int(value: bigint | number | string): PyNumber {
    let big: bigint;
    if (typeof value === 'bigint') big = value;
    else if (typeof value === 'number') {
      if (!Number.isInteger(value)) throw new PyJsonError(`${value} is not an integer`);
      big = BigInt(value);
    } else {
      if (!/^-?\d+$/.test(value)) throw new PyJsonError(`${JSON.stringify(value)} is not an integer`);
      big = BigInt(value);
    }
    const repr = big.toString();
    return new PyNumber('int', repr, Number(repr));
  }

  /** A Python float: `PyNumber.float(1)` is `1.0`; text is read as Python's `float()` reads it. */
  static float(value: number | string): PyNumber {
    const number = typeof value === 'number' ? value : parseFloatText(value);
    return new PyNumber('float', pythonFloatRepr(number), number);
  }

  /** The text Python's `json.dumps` writes: `NaN`, `Infinity`, `-Infinity`, else the repr. */
  get json(): string {
    if (this.kind === 'int') return this.repr;
    if (Number.isNaN(this.value)) return 'NaN';
    if (!Number.isFinite(this.value)) return this.value > 0 ? 'Infinity' : '-Infinity';
    return this.repr;
  }

  /** For JSON.stringify (logs): the nearest JS number; NaN and infinities become null there. */
  toJSON(): number {
    return this.value;
  }

  toString(): string {
    return this.repr;
  }
}

/** A Python dict from JSON: string keys in insertion order. */
export class PyDict {
  constructor(readonly entries: ReadonlyArray<readonly [string, PyValue]>) {}

  get(key: string): PyValue | undefined {
    for (const [k, v] of this.entries) if (k === key) return v;
    return undefined;
  }

  get size(): number {
    return this.entries.length;
  }

  /** A plain object (for display and tests); numbers stay PyNumber. */
  toJSON(): Record<string, unknown> {
    const object: Record<string, unknown> = {};
    for (const [k, v] of this.entries)
      Object.defineProperty(object, k, { value: v, enumerable: true, writable: true, configurable: true });
    return object;
  }
}

/** A value as Python's json module produces it. Lists are JS arrays; dicts keep their order in PyDict. */
export type PyValue = null | boolean | string | PyNumber | PyValue[] | PyDict;

/** Raised for text Python's json.loads would reject, or a value it could not write. */
export class PyJsonError extends Error {
  override readonly name = 'PyJsonError';
}

/**
 * Parses `text` as Python's `json.loads` does (CPython 3.11, strict mode).
 * @returns the value, numbers as PyNumber, objects as PyDict
 * @throws PyJsonError with the position, as Python would fail
 */
export function parsePyJson(text: string): PyValue {
  if (text.charCodeAt(0) === 0xfeff) throw new PyJsonError('Unexpected UTF-8 BOM (decode using utf-8-sig)');
  const parser = new Parser(text);
  parser.skipWhitespace();
  const value = parser.value();
  parser.skipWhitespace();
  if (parser.at < text.length) throw parser.error('Extra data');
  return value;
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;

class Parser {
  at = 0;
  constructor(private readonly text: string) {}

  error(message: string): PyJsonError {
    return new PyJsonError(`${message} at char ${this.at}`);
  }

  skipWhitespace(): void {
    const text = this.text;
    for (;;) {
      const c = text.charCodeAt(this.at);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.at++;
      else return;
    }
  }

  value(): PyValue {
    const text = this.text;
    const c = text[this.at];
    switch (c) {
      case '"':
        return this.string();
      case '{':
        return this.object();
      case '[':
        return this.array();
      case 'n':
        return this.literal('null', null);
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'N':
        return this.literal('NaN', PyNumber.float(NaN));
      case 'I':
        return this.literal('Infinity', PyNumber.float(Infinity));
    }
    if (c === '-' && text.startsWith('-Infinity', this.at)) return this.literal('-Infinity', PyNumber.float(-Infinity));
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(text);
    if (match === null) throw this.error('Expecting value');
    const numberText = match[0];
    this.at += numberText.length;
    if (match[1] === undefined && match[2] === undefined) {
      if (numberText.replace('-', '').length > MAX_INT_DIGITS) {
        throw this.error(`Exceeds the limit (${MAX_INT_DIGITS}) for integer string conversion`);
      }
      return PyNumber.int(numberText);
    }
    return PyNumber.float(Number(numberText));
  }

  private literal<T extends PyValue>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.at)) throw this.error('Expecting value');
    this.at += word.length;
    return value;
  }

  private string(): string {
    const text = this.text;
    const start = ++this.at;
    // Fast path: no escapes, no control characters.
    let end = start;
    for (;;) {
      const c = text.charCodeAt(end);
      if (Number.isNaN(c)) {
        this.at = start - 1;
        throw this.error('Unterminated string starting');
      }
      if (c === 0x22) {
        this.at = end + 1;
        return text.slice(start, end);
      }
      if (c === 0x5c || c < 0x20) break;
      end++;
    }
    let out = text.slice(start, end);
    this.at = end;
    for (;;) {
      const c = text.charCodeAt(this.at);
      if (Number.isNaN(c)) {
        this.at = start - 1;
        throw this.error('Unterminated string starting');
      }
      if (c === 0x22) {
        this.at++;
        return out;
      }
      if (c < 0x20) throw this.error('Invalid control character');
      if (c !== 0x5c) {
        out += text[this.at];
        this.at++;
        continue;
      }
      const escape = text[this.at + 1];
      const simple = escape === undefined ? undefined : SIMPLE_ESCAPES[escape];
      if (simple !== undefined) {
        out += simple;
        this.at += 2;
      } else if (escape === 'u') {
        const hex = text.slice(this.at + 2, this.at + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.error('Invalid \\uXXXX escape');
        // JS strings are UTF-16, so a pair of escapes joins by itself, and a
        // lone surrogate stays one, as in Python.
        out += String.fromCharCode(parseInt(hex, 16));
        this.at += 6;
      } else {
        throw this.error('Invalid \\escape');
      }
    }
  }

  private object(): PyDict {
    const text = this.text;
    this.at++;
    const entries: Array<[string, PyValue]> = [];
    const index = new Map<string, number>();
    this.skipWhitespace();
    if (text[this.at] === '}') {
      this.at++;
      return new PyDict(entries);
    }
    for (;;) {
      if (text[this.at] !== '"') throw this.error('Expecting property name enclosed in double quotes');
      const key = this.string();
      this.skipWhitespace();
      if (text[this.at] !== ':') throw this.error("Expecting ':' delimiter");
      this.at++;
      this.skipWhitespace();
      const value = this.value();
      const seen = index.get(key);
      if (seen === undefined) {
        index.set(key, entries.length);
        entries.push([key, value]);
      } else {
        // dict(pairs): the key keeps its first position, the last value wins.
        entries[seen] = [key, value];
      }
      this.skipWhitespace();
      const c = text[this.at];
      this.at++;
      if (c === '}') return new PyDict(entries);
      if (c !== ',') {
        this.at--;
        throw this.error("Expecting ',' delimiter");
      }
      this.skipWhitespace();
    }
  }

  private array(): PyValue[] {
    const text = this.text;
    this.at++;
    const items: PyValue[] = [];
    this.skipWhitespace();
    if (text[this.at] === ']') {
      this.at++;
      return items;
    }
    for (;;) {
      items.push(this.value());
      this.skipWhitespace();
      const c = text[this.at];
      this.at++;
      if (c === ']') return items;
      if (c !== ',') {
        this.at--;
        throw this.error("Expecting ',' delimiter");
      }
      this.skipWhitespace();
    }
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/** Python's float() of a JSON or repr number text (`nan`, `inf`, `1e+16`, `NaN`, `Infinity`). */
function parseFloatText(text: string): number {
  const trimmed = text.trim();
  const lower = trimmed.toLowerCase();
  if (lower === 'nan' || lower === '+nan' || lower === '-nan') return NaN;
  if (['inf', '+inf', 'infinity', '+infinity'].includes(lower)) return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(trimmed))
    throw new PyJsonError(`${JSON.stringify(text)} is not a float`);
  return Number(trimmed);
}

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

/** Python's repr(float): shortest round-trip digits, scientific below 1e-4 and from 1e16. */
export function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  const [mantissa = '0', exponentText = '0'] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
    const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
    const fraction = digits.slice(exponent + 1) || '0';
    return `${sign}${whole}.${fraction}`;
  }
  const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const expSign = exponent < 0 ? '-' : '+';
  return `${sign}${head}e${expSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
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
