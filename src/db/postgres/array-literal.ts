// PostgreSQL array literals ('{1,2,3}', '{"a",NULL}') built in one pass, for the beat's
// batch statements (RECORD_RUNS, INSERT_RUNS: thousands of elements a call). Given a JS
// array, `pg` turns each element into a string and escapes it with two regular
// expressions (utils.js prepareValue/arrayString/escapeElement), and formats each Date in
// local time: about 0.3 s of a 100,000-run burst's main thread. A literal passed as a
// string parameter is sent as it is; the statement's cast (`$1::int[]`) parses it.

/** Characters that must be escaped inside a quoted array element. */
const NEEDS_ESCAPE = /["\\]/;

/** `{1,2,3}`: integers or other finite numbers, as JavaScript prints them (never exponents below 1e21). */
export function numberArray(values: readonly number[]): string {
  return `{${values.join(',')}}`;
}

/** `{1,NULL,3}`: numbers, null as NULL. */
export function nullableNumberArray(values: readonly (number | null)[]): string {
  let literal = '{';
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (index > 0) literal += ',';
    literal += value === null || value === undefined ? 'NULL' : String(value);
  }
  return `${literal}}`;
}

/** `{t,f}`: booleans. */
export function booleanArray(values: readonly boolean[]): string {
  let literal = '{';
  for (let index = 0; index < values.length; index++)
    literal += index > 0 ? (values[index] ? ',t' : ',f') : values[index] ? 't' : 'f';
  return `${literal}}`;
}

/** `{"a","b \\" c",NULL}`: every text element quoted (so 'NULL', '' and spaces stay text), null as NULL. */
export function textArray(values: readonly (string | null)[]): string {
  let literal = '{';
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (index > 0) literal += ',';
    if (value === null || value === undefined) literal += 'NULL';
    else if (NEEDS_ESCAPE.test(value)) literal += `"${value.replace(/["\\]/g, '\\$&')}"`;
    else literal += `"${value}"`;
  }
  return `${literal}}`;
}

/**
 * The SQL that turns a whole number of epoch milliseconds into the exact timestamptz
 * (`expression` names a float8 or bigint). Not to_timestamp(ms / 1000): its division and
 * scaling in floating point land a microsecond off for about 2.5 % of millisecond values.
 */
export function epochMsToTimestamptz(expression: string): string {
  return `('epoch'::timestamptz + ${expression} * interval '1 millisecond')`;
}
