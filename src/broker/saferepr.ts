// A port of Celery's `celery.utils.saferepr.saferepr` (Celery 5.2) for JSON
// values, used for the `argsrepr` / `kwargsrepr` headers. It keeps Celery's
// quirks on purpose, because tools (Flower, logs) show these strings:
// strings always in single quotes with only `'` escaped, `True`/`False`/`None`,
// containers nested deeper than `maxlevels` shown as `[...]` / `{...}`, and the
// output cut once `maxlen` characters have been produced, with `, ...` and the
// closing brackets still pending (which may be unbalanced, as in Celery).
//
// Values are Python's (see pyjson.ts): a PyNumber prints its repr (`1.0`,
// `1e+16`, `nan`, every digit of a big int), a PyDict its keys in order. Plain
// JavaScript values are read with toPyValue first. Lengths count code points,
// as Python's len() does.
import { type PyDict, PyNumber, type PyValue, toPyValue } from './pyjson.js';

export { pythonFloatRepr } from './pyjson.js';

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

const DICT_START: Literal = { kind: 'literal', value: '{', truncatable: false, direction: 1 };
const DICT_KV_SEP: Literal = { kind: 'literal', value: ': ', truncatable: true, direction: 0 };
const DICT_END: Literal = { kind: 'literal', value: '}', truncatable: false, direction: -1 };
const LIST_START: Literal = { kind: 'literal', value: '[', truncatable: false, direction: 1 };
const LIST_SEP: Literal = { kind: 'literal', value: ', ', truncatable: true, direction: 0 };
const LIST_END: Literal = { kind: 'literal', value: ']', truncatable: false, direction: -1 };

/** An element of a pending stream: a token already decided, or a value still to expand. */
type Item = { token: Literal | Key } | { value: PyValue };

/**
 * Celery's saferepr of a JSON value.
 * @param value a Python value from pyjson.ts, or a JavaScript value read with toPyValue
 * @param maxlen stop after about this many characters (Celery uses 1024); null for no limit
 * @param maxlevels containers at this depth or deeper print as `[...]` / `{...}`
 */
export function saferepr(value: unknown, maxlen: number | null = null, maxlevels = 3): string {
  const root = toPyValue(value);
  if (maxlen === null || maxlen > 0) {
    const whole = wholeRepr(root, maxlen ?? Infinity, maxlevels);
    if (whole !== null) return whole;
  }
  return [...formatTokens(root, maxlen, maxlevels)].join('');
}

/**
 * The repr when it is shorter than `maxlen` (nothing is cut then: no token meets the
 * limit, see formatTokens), else null. Written straight out: most args and kwargs are
 * short, and the token stream costs several objects per value.
 */
function wholeRepr(root: PyValue, maxlen: number, maxlevels: number): string | null {
  let length = 0;
  // UTF-16 units count at least the code points Python's len() counts, so a text
  // shorter than maxlen in units is shorter in code points too.
  const add = (text: string): string | null => {
    length += text.length;
    return length < maxlen ? text : null;
  };
  const walk = (value: PyValue, level: number): string | null => {
    if (value === null) return add('None');
    if (typeof value === 'boolean') return add(value ? 'True' : 'False');
    if (value instanceof PyNumber) return add(value.repr);
    if (typeof value === 'string') return add(quoted(value));
    const isList = Array.isArray(value);
    if (maxlevels && level >= maxlevels) return add(isList ? '[...]' : '{...}');
    if (add('[]') === null) return null; // both brackets, counted up front
    let text = isList ? '[' : '{';
    if (isList) {
      for (let i = 0; i < value.length; i++) {
        if (i > 0 && add(', ') === null) return null;
        const item = walk(value[i] as PyValue, level + 1);
        if (item === null) return null;
        text += i > 0 ? `, ${item}` : item;
      }
      return `${text}]`;
    }
    const entries = value.entries;
    for (let i = 0; i < entries.length; i++) {
      const [key, item] = entries[i] as [string, PyValue];
      if (i > 0 && add(', ') === null) return null;
      const keyText = add(quoted(key));
      if (keyText === null || add(': ') === null) return null;
      const itemText = walk(item, level + 1);
      if (itemText === null) return null;
      text += `${i > 0 ? ', ' : ''}${keyText}: ${itemText}`;
    }
    return `${text}}`;
  };
  return walk(root, 0);
}

/** A string as Celery's _format_chars writes one that is not cut: in `'`, only `'` escaped. */
function quoted(value: string): string {
  return `'${value.replaceAll("'", "\\'")}'`;
}

function* formatTokens(root: PyValue, maxlen: number | null, maxlevels: number): Generator<string> {
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
function tokenStream(root: PyValue, maxlevels: number): { tokens: Generator<Token>; rest(): Iterable<Item> } {
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
      else if (value instanceof PyNumber) yield { kind: 'text', value: value.repr };
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

function* listItems(list: PyValue[]): Generator<Item> {
  for (let i = 0; i < list.length; i++) {
    yield { value: list[i] as PyValue };
    if (i < list.length - 1) yield { token: LIST_SEP };
  }
}

function* dictItems(dict: PyDict): Generator<Item> {
  const entries = dict.entries;
  for (let i = 0; i < entries.length; i++) {
    const [key, value] = entries[i] as [string, PyValue];
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
