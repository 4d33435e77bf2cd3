// Crontab field parser with Celery 5.2's grammar (`celery.schedules.crontab_parser`).
//
// Why not cron-parser: it implements Vixie cron (day of month OR day of week, no
// wrapping ranges, different name and step rules), while dbbeat must accept and
// reject exactly what a Celery worker's beat would. This file mirrors Celery's
// regexes and their quirks (prefix matching, Python `int()`), so a row that Celery
// accepts means the same here, and a row it rejects is rejected, naming the field.
//
// Two extensions, as django-celery-beat's validator accepts them: `7` is Sunday in
// day_of_week, and month names (jan..dec) are accepted in month_of_year.

import { ScheduleError } from '../errors.js';

/** The five crontab columns, named as django-celery-beat names them. */
export type CrontabFieldName = 'minute' | 'hour' | 'day_of_week' | 'day_of_month' | 'month_of_year';

interface FieldDomain {
  /** Smallest value (0 or 1). */
  readonly min: number;
  /** Number of values, Celery's `max_` (60, 24, 7, 31, 12). */
  readonly size: number;
}

const DOMAINS: Record<CrontabFieldName, FieldDomain> = {
  minute: { min: 0, size: 60 },
  hour: { min: 0, size: 24 },
  day_of_week: { min: 0, size: 7 },
  day_of_month: { min: 1, size: 31 },
  month_of_year: { min: 1, size: 12 },
};

/** celery.utils.time.WEEKDAYS: Celery resolves names with it in every field. */
const WEEKDAY_NAMES: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const MONTH_NAMES: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

// Python's `\w` on str: letters, digits (any script) and underscore. The regexes
// are anchored at the start only, as Python's `re.match` is: trailing text after
// a match is ignored by Celery, and so here.
const WORD = String.raw`[\p{L}\p{N}_]`;
const RANGE_STEPS = new RegExp(String.raw`^(${WORD}+?)-(${WORD}+)/(${WORD}+)?`, 'u');
const RANGE = new RegExp(String.raw`^(${WORD}+?)-(${WORD}+)`, 'u');
const STAR_STEPS = new RegExp(String.raw`^\*/(${WORD}+)?`, 'u');
// Python's int(): surrounding whitespace, a sign, decimal digits of any script
// (Unicode category Nd: "٣" and "５" are 3 and 5) with single underscores between.
const PYTHON_INT = /^\s*([+-]?)(\p{Nd}(?:_?\p{Nd})*)\s*$/u;
const DECIMAL_DIGIT = /^\p{Nd}$/u;

/**
 * The value of a decimal digit of any script. Unicode keeps each script's digits
 * in runs that count 0-9 upward (some runs hold several sets of ten), so the
 * value is the distance from the run's start, modulo 10.
 */
function digitValue(digit: string): number {
  const code = digit.codePointAt(0)!;
  let start = code;
  while (DECIMAL_DIGIT.test(String.fromCodePoint(start - 1))) start--;
  return (code - start) % 10;
}

/** Python's `int(text)`, or null where Python raises ValueError. */
function pythonInt(text: string): number | null {
  const match = PYTHON_INT.exec(text);
  if (!match) return null;
  let magnitude = 0;
  for (const digit of match[2]!) if (digit !== '_') magnitude = magnitude * 10 + digitValue(digit);
  return match[1] === '-' ? -magnitude : magnitude;
}

class FieldParser {
  private readonly domain: FieldDomain;

  constructor(
    private readonly name: CrontabFieldName,
    private readonly text: string,
  ) {
    this.domain = DOMAINS[name];
  }

  private fail(reason: string): never {
    throw new ScheduleError(`crontab.${this.name}`, this.text, reason);
  }

  /** Largest number accepted as a literal (7 for Sunday in day_of_week). */
  private get maxLiteral(): number {
    return this.name === 'day_of_week' ? 7 : this.domain.min + this.domain.size - 1;
  }

  parse(): number[] {
    // Marks instead of a Set and a sort: values are small integers.
    const marks = new Uint8Array(this.maxLiteral + 1);
    for (const part of this.text.split(',')) {
      if (part === '') this.fail('has an empty part between commas');
      for (const value of this.parsePart(part)) marks[value === 7 && this.name === 'day_of_week' ? 0 : value] = 1;
    }
    const values: number[] = [];
    for (let value = 0; value < marks.length; value++) if (marks[value]) values.push(value);
    return values;
  }

  // The order of these checks is Celery's: range/step, range, */step, *, single value.
  private parsePart(part: string): number[] {
    let match = RANGE_STEPS.exec(part);
    if (match) {
      if (!match[3]) this.fail(`has an empty step in "${part}"`);
      return takeEvery(this.expandRange(match[1]!, match[2]!), this.parseStep(match[3], part));
    }
    match = RANGE.exec(part);
    if (match) return this.expandRange(match[1]!, match[2]!);
    match = STAR_STEPS.exec(part);
    if (match) {
      if (!match[1]) this.fail(`has an empty step in "${part}"`);
      return takeEvery(this.expandStar(), this.parseStep(match[1], part));
    }
    if (part === '*') return this.expandStar();
    return [this.expandNumber(part)];
  }

  private parseStep(text: string, part: string): number {
    const step = pythonInt(text);
    if (step === null) this.fail(`has a step "${text}" in "${part}" that is not a number`);
    if (step === 0) this.fail(`has a step of 0 in "${part}"; a step must be at least 1`);
    // A negative step cannot get here: `-` is not a word character.
    return step;
  }

  private expandStar(): number[] {
    const { min, size } = this.domain;
    return rangeOf(min, min + size);
  }

  private expandRange(fromText: string, toText: string): number[] {
    let from = this.expandNumber(fromText);
    const to = this.expandNumber(toText);
    // Sunday as 7: "7-2" starts on Sunday (0); "5-7" and "0-7" end on it without wrapping.
    if (this.name === 'day_of_week' && from === 7) from = 0;
    if (to < from) {
      // Wrap around the end of the field, as Celery does ("fri-mon", "22-2").
      const end = this.domain.min + this.domain.size;
      return [...rangeOf(from, end), ...rangeOf(this.domain.min, to + 1)];
    }
    return rangeOf(from, to + 1);
  }

  private expandNumber(text: string): number {
    if (text.startsWith('-')) this.fail(`has a negative number "${text}"; negative numbers are not supported`);
    const value = pythonInt(text) ?? this.nameValue(text);
    if (value === null) this.fail(`has "${text}", which is not a number or a ${this.nameKind()} name`);
    const { min } = this.domain;
    if (value > this.maxLiteral || value < min) {
      const which = this.text.trim() === text.trim() ? 'is' : `has ${value},`;
      this.fail(`${which} out of range ${min}-${this.maxLiteral}`);
    }
    return value;
  }

  // Celery reads a name by its first three letters in any case ("Monday", "MON").
  private nameValue(text: string): number | null {
    const abbreviation = text.slice(0, 3).toLowerCase();
    if (this.name === 'month_of_year' && Object.hasOwn(MONTH_NAMES, abbreviation)) return MONTH_NAMES[abbreviation]!;
    if (Object.hasOwn(WEEKDAY_NAMES, abbreviation)) return WEEKDAY_NAMES[abbreviation]!;
    return null;
  }

  private nameKind(): string {
    return this.name === 'month_of_year' ? 'month' : 'weekday';
  }
}

function rangeOf(start: number, end: number): number[] {
  const values: number[] = [];
  for (let value = start; value < end; value++) values.push(value);
  return values;
}

/** Python's `values[::step]`. */
function takeEvery(values: number[], step: number): number[] {
  const taken: number[] = [];
  for (let index = 0; index < values.length; index += step) taken.push(values[index]!);
  return taken;
}

/**
 * Expands one crontab field as Celery 5.2 does (plus `7` = Sunday in day_of_week
 * and month names in month_of_year).
 *
 * @returns the sorted, distinct values the field matches (day_of_week 0 = Sunday).
 * @throws ScheduleError naming `crontab.<field>` and the text, e.g.
 *   `crontab.minute: "61" is out of range 0-59`.
 */
export function parseCrontabField(field: CrontabFieldName, text: string): number[] {
  if (typeof text !== 'string') {
    throw new ScheduleError(`crontab.${field}`, text, 'must be a string');
  }
  return new FieldParser(field, text).parse();
}
