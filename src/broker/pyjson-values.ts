// The values Python's json module reads and writes: ints of any size and floats as
// PyNumber, dicts in key order as PyDict (see pyjson.ts for why, and the parser and
// writer that use them).

/** Python's int size limit for str→int (3.11 `sys.get_int_max_str_digits()`); json.loads fails past it. */
export const MAX_INT_DIGITS = 4300;

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

/** Python's float() of a JSON or repr number text (`nan`, `inf`, `1e+16`, `NaN`, `Infinity`). */
export function parseFloatText(text: string): number {
  const trimmed = text.trim();
  const lower = trimmed.toLowerCase();
  if (lower === 'nan' || lower === '+nan' || lower === '-nan') return NaN;
  if (['inf', '+inf', 'infinity', '+infinity'].includes(lower)) return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(trimmed))
    throw new PyJsonError(`${JSON.stringify(text)} is not a float`);
  return Number(trimmed);
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
