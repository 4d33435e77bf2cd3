// The checks of checkPeriodicTask (validate.ts) on a task row's own columns, done cheaply
// for the common case: a row they pass is one checkPeriodicTask passes too. A row they
// do not pass is not necessarily bad: the beat checks it in full, which names every
// problem. test/model/common-row.test.ts holds both to that.
import type { OwnTaskRow } from '../db/store.js';
import { isIntegerIn } from './issues.js';
import { MAX_INT4 } from './schedule-rows.js';
import { MAX_NAME_LENGTH } from './validate.js';

/** The largest epoch ms a Date can hold. */
const MAX_DATE_MS = 8.64e15;

/**
 * Whether checkPeriodicTask surely passes the row's own columns, other than its JSON
 * columns and its schedule: text lengths, priority, expire_seconds, times, flags.
 */
export function isCommonTaskRow(task: OwnTaskRow): boolean {
  return (
    isShortText(task.name) &&
    isShortText(task.task) &&
    isOptionalText(task.queue) &&
    isOptionalText(task.exchange) &&
    isOptionalText(task.routing_key) &&
    (task.priority === null || isIntegerIn(task.priority, 0, 255)) &&
    (task.expire_seconds === null || (isIntegerIn(task.expire_seconds, 0, MAX_INT4) && task.expires === null)) &&
    (task.expires === null || isDateMs(task.expires)) &&
    (task.start_time === null || isDateMs(task.start_time)) &&
    typeof task.one_off === 'boolean' &&
    typeof task.enabled === 'boolean'
  );
}

// A UTF-16 length within the limit bounds the character count (what the check counts).
function isShortText(value: unknown): boolean {
  return typeof value === 'string' && value.length <= MAX_NAME_LENGTH && value.trim() !== '';
}

function isOptionalText(value: unknown): boolean {
  return value === null || (typeof value === 'string' && value.length <= MAX_NAME_LENGTH);
}

function isDateMs(value: unknown): boolean {
  return typeof value === 'number' && Math.abs(value) <= MAX_DATE_MS;
}

const WS = '[ \\t\\n\\r]*';
// Python's json.loads reads each of these as itself: integers short enough to need no
// digit limit, strings without escapes or control characters, and the three literals.
const ITEM = '(?:-?(?:0|[1-9][0-9]{0,15})|"[^"\\\\\\u0000-\\u001f]*"|true|false|null)';
const SIMPLE_LIST = new RegExp(`^${WS}\\[${WS}(?:${ITEM}${WS}(?:,${WS}${ITEM}${WS})*)?\\]${WS}$`);

/**
 * Whether `text` is surely a JSON list that Python's json.loads reads (the args check),
 * without parsing it: a list of integers, plain strings, booleans and nulls. Other lists
 * are not necessarily bad: they are checked by parsing.
 */
export function isSimpleJsonList(text: string): boolean {
  return SIMPLE_LIST.test(text);
}
