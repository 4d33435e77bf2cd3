// A port of Celery's `celery.utils.saferepr.saferepr` (Celery 5.2) for JSON
// values, used for the `argsrepr` / `kwargsrepr` headers. It keeps Celery's
// quirks on purpose, because tools (Flower, logs) show these strings:
// strings always in single quotes with only `'` escaped, `True`/`False`/`None`,
// containers nested deeper than `maxlevels` shown as `[...]` / `{...}`, and the
// output cut once `maxlen` characters have been produced, with `, ...` and the
// closing brackets still pending (which may be unbalanced, as in Celery).
//
// Values are first passed through JSON (as the worker will receive them), so a
// number is a Python int when its JSON text has no `.` or exponent and a
// Python float otherwise. Lengths count code points, as Python's len() does.

/** Literal text; `truncatable` false for brackets that are always closed. */
interface Literal {
  kind: 'literal';
  value: string;
  truncatable: boolean;
  direction: 1 | 0 | -1;
}
interface Key {
  kind: 'key';
  value: string;
}
interface Quoted {
  kind: 'quoted';
  value: string;
}
/** Already-formatted text (numbers, booleans, None, `[...]`). */
interface Text {
  kind: 'text';
  value: string;
}
type Token = Literal | Key | Quoted | Text;

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const DICT_START: Literal = { kind: 'literal', value: '{', truncatable: false, direction: 1 };
const DICT_KV_SEP: Literal = { kind: 'literal', value: ': ', truncatable: true, direction: 0 };
const DICT_END: Literal = { kind: 'literal', value: '}', truncatable: false, direction: -1 };
const LIST_START: Literal = { kind: 'literal', value: '[', truncatable: false, direction: 1 };
const LIST_SEP: Literal = { kind: 'literal', value: ', ', truncatable: true, direction: 0 };
const LIST_END: Literal = { kind: 'literal', value: ']', truncatable: false, direction: -1 };

/** An element of a pending stream: a token already decided, or a value still to expand. */
type Item = { token: Literal | Key } | { value: JsonValue };

/**
 * Celery's saferepr of a JSON value.
 * @param value any JSON-serialisable value (it is normalised through JSON first)
 * @param maxlen stop after about this many characters (Celery uses 1024); null for no limit
 * @param maxlevels containers at this depth or deeper print as `[...]` / `{...}`
 */
export function saferepr(value: unknown, maxlen: number | null = null, maxlevels = 3): string {
  const text = JSON.stringify(value);
  const normalised = (text === undefined ? null : JSON.parse(text)) as JsonValue;
  return [...formatTokens(normalised, maxlen, maxlevels)].join('');
}

function* formatTokens(root: JsonValue, maxlen: number | null, maxlevels: number): Generator<string> {
  let remaining = maxlen;
  const stream = tokenStream(root, maxlevels);
  for (const token of stream.tokens) {
    if (remaining !== null && remaining <= 0) {
      yield ', ...';
      // Like Celery: the token in hand is dropped, then every unconditional
      // bracket still pending in the current stream is closed.
      for (const item of stream.rest()) {
        if ('token' in item && item.token.kind === 'literal' && !item.token.truncatable) {
          yield item.token.value;
        }
      }
      return;
    }
    let out: string;
    if (token.kind === 'literal') out = token.value;
    // Celery formats a key with a nested saferepr(key, maxlen); for a string
    // key (always, in JSON) with maxlen > 0 that is exactly formatChars.
    else if (token.kind === 'key' || token.kind === 'quoted') out = formatChars(token.value, remaining);
    else out = truncate(token.value, remaining);
    yield out;
    if (remaining !== null) remaining -= pyLen(out);
  }
}

/**
 * Celery's `reprstream`: a flat stream of tokens, plus access to what is left
 * of the stream currently being read (Celery's `it`).
 */
function tokenStream(root: JsonValue, maxlevels: number): { tokens: Generator<Token>; rest(): Iterable<Item> } {
  // Celery splices each container's items in front of the rest of the stream
  // (itertools.chain); a stack of frames does the same without nesting
  // iterators one level deeper per container.
  const frames: Array<Iterator<Item>> = [[{ value: root } as Item][Symbol.iterator]()];
  function nextItem(): Item | undefined {
    for (let top = frames.at(-1); top; top = frames.at(-1)) {
      const next = top.next();
      if (!next.done) return next.value;
      frames.pop();
    }
    return undefined;
  }
  const rest = (): Iterable<Item> => ({
    *[Symbol.iterator]() {
      for (let item = nextItem(); item; item = nextItem()) yield item;
    },
  });
  function* tokens(): Generator<Token> {
    let level = 0;
    for (let item = nextItem(); item; item = nextItem()) {
      if ('token' in item) {
        if (item.token.kind === 'literal') level += item.token.direction;
        yield item.token;
        continue;
      }
      const value = item.value;
      if (value === null) yield { kind: 'text', value: 'None' };
      else if (typeof value === 'boolean') yield { kind: 'text', value: value ? 'True' : 'False' };
      else if (typeof value === 'number') yield { kind: 'text', value: pythonNumberText(value) };
      else if (typeof value === 'string') yield { kind: 'quoted', value };
      else {
        const isList = Array.isArray(value);
        const start = isList ? LIST_START : DICT_START;
        const end = isList ? LIST_END : DICT_END;
        if (maxlevels && level >= maxlevels) {
          yield { kind: 'text', value: `${start.value}...${end.value}` };
          continue;
        }
        frames.push(containerItems(start, isList ? listItems(value) : dictItems(value), end));
      }
    }
  }
  return { tokens: tokens(), rest };
}

function* containerItems(start: Literal, children: Iterable<Item>, end: Literal): Generator<Item> {
  yield { token: start };
  yield* children;
  yield { token: end };
}

function* listItems(list: JsonValue[]): Generator<Item> {
  for (let i = 0; i < list.length; i++) {
    yield { value: list[i] as JsonValue };
    if (i < list.length - 1) yield { token: LIST_SEP };
  }
}

function* dictItems(dict: { [key: string]: JsonValue }): Generator<Item> {
  const entries = Object.entries(dict);
  for (let i = 0; i < entries.length; i++) {
    const [key, value] = entries[i] as [string, JsonValue];
    yield { token: { kind: 'key', value: key } };
    yield { token: DICT_KV_SEP };
    yield { value };
    if (i < entries.length - 1) yield { token: LIST_SEP };
  }
}

/** Celery's `_format_chars` for str: truncate, escape only `'`, wrap in `'`. */
function formatChars(value: string, maxlen: number | null): string {
  return `'${truncate(value, maxlen).replaceAll("'", "\\'")}'`;
}

/** Celery's `celery.utils.text.truncate` (note `>=`: a string of exactly maxlen gains `...`). */
export function truncate(text: string, maxlen: number | null, suffix = '...'): string {
  if (!maxlen || pyLen(text) < maxlen) return text;
  const head = Array.from(text).slice(0, maxlen).join('');
  const space = head.lastIndexOf(' ');
  return (space === -1 ? head : head.slice(0, space)) + suffix;
}

/** Length in code points, as Python's len(str). */
function pyLen(text: string): number {
  let length = 0;
  for (const _ of text) length++;
  return length;
}

/**
 * How Python prints a number that arrived through JSON: an int when the JSON
 * text is integral (`1e21` is a float to Python), else `repr(float)`.
 */
export function pythonNumberText(value: number): string {
  const json = JSON.stringify(value);
  if (!/[.eE]/.test(json)) return json;
  return pythonFloatRepr(value);
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
