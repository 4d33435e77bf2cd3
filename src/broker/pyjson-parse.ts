// The parser: text as CPython 3.11's json.loads reads it (Lib/json/scanner.py, decoder.py
// and the C scanner), numbers as PyNumber and objects as PyDict (pyjson-values.ts).
import { MAX_INT_DIGITS, PyDict, PyJsonError, PyNumber, type PyValue } from './pyjson-values.js';

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
