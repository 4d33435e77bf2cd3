// A reader of Python pickles limited to plain data: what Celery's SQLAlchemy backend keeps
// in celery_taskmeta.result (a PickleType column: pickle.dumps of the stored value, which
// with the json result serializer is JSON-like data, an exception as
// {exc_type, exc_message, exc_module}), and django-celery-results' binary content.
// It never runs anything: an opcode that names a Python class or calls one (GLOBAL,
// STACK_GLOBAL, REDUCE, NEWOBJ, BUILD …) ends the read with PickleUnsupportedError, and the
// caller keeps the state and traceback without the value. Opcodes: CPython's
// Lib/pickletools.py (protocols 2 to 5, as SQLAlchemy writes them; 0/1 text opcodes are not read).
import { PyDict, PyNumber, type PyValue } from '../broker/pyjson.js';

/** The pickle holds something other than plain data (a class instance, a global), or is damaged. */
export class PickleUnsupportedError extends Error {
  override readonly name = 'PickleUnsupportedError';
}

/** A dict while it is being built: SETITEM(S) mutate it after it was pushed (and memoized). */
class OpenDict {
  readonly entries: [string, Item][] = [];
}
/** A list or set while being built; a tuple is a frozen list. */
type Item = null | boolean | string | PyNumber | Item[] | OpenDict;
const MARK = Symbol('mark');
type Slot = Item | typeof MARK;

/**
 * Reads a pickle of plain data: None, bool, int (any size), float, str, bytes (as text,
 * UTF-8 with replacement), list, tuple (as a list), dict (keys as text, like JSON), set and
 * frozenset (as lists).
 * @throws PickleUnsupportedError for any other opcode, or a truncated pickle
 */
export function readPickle(data: Uint8Array): PyValue {
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const stack: Slot[] = [];
  const memo = new Map<number, Item>();
  let at = 0;
  const need = (n: number): number => {
    if (at + n > buffer.length) throw new PickleUnsupportedError('pickle ends early');
    const start = at;
    at += n;
    return start;
  };
  const pop = (): Item => {
    const value = stack.pop();
    if (value === undefined || value === MARK) throw new PickleUnsupportedError('pickle stack underflow');
    return value;
  };
  const popToMark = (): Item[] => {
    const index = stack.lastIndexOf(MARK);
    if (index < 0) throw new PickleUnsupportedError('pickle has no mark');
    const items = stack.splice(index) as Item[];
    items.shift();
    return items;
  };
  const top = (): Item => {
    const value = stack[stack.length - 1];
    if (value === undefined || value === MARK) throw new PickleUnsupportedError('pickle stack underflow');
    return value;
  };
  const text = (length: number): string => buffer.toString('utf8', need(length), at);
  const setItems = (dict: Item, items: Item[]): void => {
    if (!(dict instanceof OpenDict)) throw new PickleUnsupportedError('SETITEMS on a non-dict');
    for (let i = 0; i + 1 < items.length; i += 2) {
      const key = keyText(items[i]!);
      const existing = dict.entries.findIndex(([k]) => k === key);
      if (existing >= 0) dict.entries[existing]![1] = items[i + 1]!;
      else dict.entries.push([key, items[i + 1]!]);
    }
  };
  const appendTo = (list: Item, items: Item[]): void => {
    if (!Array.isArray(list)) throw new PickleUnsupportedError('APPENDS on a non-list');
    list.push(...items);
  };

  for (;;) {
    const op = buffer[need(1)]!;
    switch (op) {
      case 0x80: // PROTO
        need(1);
        break;
      case 0x95: // FRAME: an 8-byte length, then the frame's opcodes inline
        need(8);
        break;
      case 0x2e: // STOP
        return finish(pop());
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(PyNumber.int(buffer.readInt32LE(need(4))));
        break;
      case 0x4b: // BININT1
        stack.push(PyNumber.int(buffer.readUInt8(need(1))));
        break;
      case 0x4d: // BININT2
        stack.push(PyNumber.int(buffer.readUInt16LE(need(2))));
        break;
      case 0x8a: // LONG1
        stack.push(PyNumber.int(littleEndianSigned(buffer.subarray(need(buffer.readUInt8(need(1))), at))));
        break;
      case 0x8b: // LONG4
        stack.push(PyNumber.int(littleEndianSigned(buffer.subarray(need(buffer.readInt32LE(need(4))), at))));
        break;
      case 0x47: // BINFLOAT, big-endian
        stack.push(PyNumber.float(buffer.readDoubleBE(need(8))));
        break;
      case 0x58: // BINUNICODE
      case 0x42: // BINBYTES
        stack.push(text(buffer.readUInt32LE(need(4))));
        break;
      case 0x8c: // SHORT_BINUNICODE
      case 0x43: // SHORT_BINBYTES
        stack.push(text(buffer.readUInt8(need(1))));
        break;
      case 0x8d: // BINUNICODE8
      case 0x8e: // BINBYTES8
        stack.push(text(Number(buffer.readBigUInt64LE(need(8)))));
        break;
      case 0x5d: // EMPTY_LIST
      case 0x8f: // EMPTY_SET
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new OpenDict());
        break;
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x61: {
        // APPEND
        const value = pop();
        appendTo(top(), [value]);
        break;
      }
      case 0x65: // APPENDS
      case 0x90: {
        // ADDITEMS
        const items = popToMark();
        appendTo(top(), items);
        break;
      }
      case 0x6c: // LIST
      case 0x74: // TUPLE
      case 0x91: // FROZENSET
        stack.push(popToMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popToMark();
        setItems(top(), items);
        break;
      }
      case 0x64: {
        // DICT
        const dict = new OpenDict();
        setItems(dict, popToMark());
        stack.push(dict);
        break;
      }
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x71: // BINPUT
        memo.set(buffer.readUInt8(need(1)), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(buffer.readUInt32LE(need(4)), top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const index = op === 0x68 ? buffer.readUInt8(need(1)) : buffer.readUInt32LE(need(4));
        if (!memo.has(index)) throw new PickleUnsupportedError(`pickle memo ${index} is not set`);
        stack.push(memo.get(index)!);
        break;
      }
      case 0x30: // POP
        stack.pop();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        throw new PickleUnsupportedError(
          `pickle opcode 0x${op.toString(16)} at byte ${at - 1} is not plain data (a Python object)`,
        );
    }
  }
}

/** A dict key as JSON would write it: text as is, numbers and None as json.dumps keys them. */
function keyText(key: Item): string {
  if (typeof key === 'string') return key;
  if (key === null) return 'null';
  if (typeof key === 'boolean') return key ? 'true' : 'false';
  if (key instanceof PyNumber) return key.json;
  throw new PickleUnsupportedError('a dict key that is not text or a number');
}

/** Two's complement, little-endian (LONG1/LONG4's payload). */
function littleEndianSigned(bytes: Buffer): bigint {
  if (bytes.length === 0) return 0n;
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  if (bytes[bytes.length - 1]! & 0x80) value -= 1n << BigInt(bytes.length * 8);
  return value;
}

/** The finished value, with dicts frozen into PyDict (a shared or cyclic structure is copied once per use). */
function finish(item: Item, depth = 0): PyValue {
  if (depth > 200) throw new PickleUnsupportedError('pickle nests deeper than 200 levels (or is cyclic)');
  if (Array.isArray(item)) return item.map((x) => finish(x, depth + 1));
  if (item instanceof OpenDict) return new PyDict(item.entries.map(([k, v]) => [k, finish(v, depth + 1)] as const));
  return item;
}
