// Keyset pages read as bounded ranges of ids. PostgreSQL plans an open-ended page
// (`id > $1 ORDER BY id LIMIT n`) by the planner's statistics: right after a bulk insert,
// before any ANALYZE, it takes a sequential scan of the whole table and a sort, for every
// page. A range bounded on both sides (`id > $1 AND id <= $2`) is a scan of that range of
// the primary key (by index or bitmap) whatever the statistics say, and so is the probe for
// the next id past an empty range: the start-up ANALYZE can run beside the load, not before it.

/** At most this many ids per range, in page sizes: bounds what one range's scan reads. */
const MAX_SPAN_PAGES = 64;
/** Ranges are this much wider than the density seen so far says, so most pages take one read. */
const MARGIN = 1.25;

/** Reads the enabled tasks with `after` < id ≤ `upTo`, at most `limit` of them, in id order. */
export type RangeRead<Row> = (after: number, upTo: number, limit: number) => Promise<Row[]>;
/** The lowest id of an enabled task above `after`, or null when there is none. */
export type NextId = (after: number) => Promise<number | null>;

/**
 * Up to `limit` rows with id > `afterId`, in id order, gathered range by range. Each range
 * is sized from the density of enabled ids in the ranges before (`hint`, kept between pages
 * by the caller), so dense ids take one read a page. After a range short of the limit, a
 * probe of the primary key (`next`) finds the next enabled id past it, where the next range
 * starts, or ends the read: a gap of any width costs one probe.
 */
export async function readByRanges<Row extends { id: number }>(
  read: RangeRead<Row>,
  next: NextId,
  afterId: number,
  limit: number,
  hint: SpanHint,
): Promise<Row[]> {
  let from = afterId;
  let rows: Row[] = [];
  for (;;) {
    const want = limit - rows.length;
    const upTo = from + hint.span(want, limit);
    const got = await read(from, upTo, want);
    rows = rows.length === 0 ? got : rows.concat(got);
    if (got.length === want) {
      hint.saw(want, got[want - 1]!.id - from);
      return rows;
    }
    if (got.length > 0) hint.saw(got.length, upTo - from);
    // Short of the limit: the next enabled id past the range, if there is one, starts the next.
    const found = await next(upTo);
    if (found === null) return rows;
    from = found - 1;
  }
}

/** How wide the next range should be, from how many enabled tasks the last ranges held per id. */
export class SpanHint {
  /** Enabled tasks per id in the last range read (1: every id is an enabled task). */
  private density = 1;

  /** Ids to read to find about `rows` more tasks (a page of `limit` at most bounds it). */
  span(rows: number, limit: number): number {
    const span = Math.ceil((rows / this.density) * MARGIN);
    return Math.min(Math.max(span, rows), MAX_SPAN_PAGES * limit);
  }

  /** A range of `ids` ids held `rows` (> 0) enabled tasks (a range cut short by the limit counts up to its last row). */
  saw(rows: number, ids: number): void {
    this.density = rows / Math.max(ids, 1);
  }
}
