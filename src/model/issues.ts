// How a broken rule is reported: one issue per rule, each naming the column and the
// value, collected rather than thrown so that a caller sees every problem at once.

/** One broken rule: where (a column name, or `kind.column` for a schedule), the value, and a message that names both. */
export interface ValidationIssue {
  /** Column name as in the database, e.g. `args`, `expire_seconds`, `crontab.minute`, or `schedule`. */
  field: string;
  value: unknown;
  /** The whole sentence, starting with the field(s): `args: "{}" is not a JSON list`. */
  message: string;
}

/** The result of a check: the parsed value, or every issue found. */
export type CheckResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

/** Thrown by validated writes; `issues` lists every broken rule. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[]) {
    super(issues.map((issue) => issue.message).join('; '));
    this.issues = issues;
  }
}

// ---- helpers for the checks in this folder ----

export function issue(field: string, value: unknown, reason: string): ValidationIssue {
  return { field, value, message: `${field}: ${describeValue(value)} ${reason}` };
}

export function tooLong(field: string, value: string, maxLength: number): ValidationIssue {
  return issue(field, value, `is ${characterCount(value)} characters long, at most ${maxLength} allowed`);
}

export function fail(single: ValidationIssue): CheckResult<never> {
  return { ok: false, issues: [single] };
}

/** String(value) for what JSON cannot show (a bigint, a symbol, a function, a circular object). */
function stringOf(value: unknown): string {
  return String(value);
}

// Like ScheduleError: JSON for plain values, ISO for dates; long strings are cut so messages stay readable.
export function describeValue(value: unknown): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (typeof value === 'string' && value.length > 60) return `${JSON.stringify(value.slice(0, 60))}…`;
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? stringOf(value);
  } catch {
    return stringOf(value);
  }
}

/** Whether a text has more than `max` characters; its UTF-16 length bounds the count, so most texts are not walked. */
export function hasMoreCharactersThan(text: string, max: number): boolean {
  return text.length > max && characterCount(text) > max;
}

// PostgreSQL varchar(n) counts characters (code points), not UTF-16 units.
export function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

export function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

export function isValidDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

export function toNumber(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  const number = typeof value === 'number' ? value : Number(stringOf(value));
  return Number.isFinite(number) ? number : undefined;
}
