// Rows read by `COPY (SELECT …) TO STDOUT (FORMAT binary)` through `pg`. For a query's
// rows, `pg` turns every non-null column into a string before its type parser runs, and
// builds an array and an object per row: at a million rows that was most of the load's
// CPU and garbage. A binary COPY hands over each row as one buffer; the caller's decoder
// reads its fields in order, numbers and times straight from their bytes, a string only
// for a text column. The server's side is cheaper too (no text output of numbers).
//
// Format (PostgreSQL's COPY docs, "Binary Format"): an 11-byte signature, an int32 of
// flags and an int32 header-extension length (with the extension) before the first row;
// each row an int16 field count, then per field an int32 length (-1: NULL) and its bytes
// in the type's binary form; an int16 of -1 ends the data. The server sends each row as
// one CopyData message, the header with the first (or with the end marker when none).

/** "PGCOPY\n\377\r\n\0". */
const SIGNATURE = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]);
/** Signature, flags, extension length. */
const HEADER_BYTES = 19;
/** 2000-01-01T00:00:00Z in epoch ms: PostgreSQL's timestamp epoch. */
const POSTGRES_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4_294_967_296;
/** Texts up to this many bytes are compared with the field's value in the row before. */
const REPEAT_MAX_BYTES = 64;

/**
 * The fields of one binary COPY row, read in the order the SELECT lists them. Each getter
 * reads one field of the type it names and returns null for NULL.
 */
export class BinaryFields {
  private buffer: Buffer = Buffer.alloc(0);
  private at = 0;
  private fields = 0;
  private read = 0;
  /**
   * Each field's text in the row before, when it was ASCII (as many characters as bytes).
   * A column's value often repeats down the rows ('[]', '{}', a task or queue name): a
   * repeat is then a byte comparison and a shared string, not a new one (decoding texts
   * was a quarter of a 1M load's profile; bench/ANALYSIS.md, session 9, has what it saved).
   */
  private readonly previous: (string | undefined)[] = [];

  /**
   * Starts on a CopyData message's bytes; returns false at the end-of-data marker. Skips
   * the header when the message begins with it.
   */
  begin(chunk: Buffer): boolean {
    let at = 0;
    if (
      chunk[0] === 0x50 &&
      chunk.length >= HEADER_BYTES &&
      chunk.compare(SIGNATURE, 0, SIGNATURE.length, 0, SIGNATURE.length) === 0
    ) {
      at = HEADER_BYTES + chunk.readInt32BE(HEADER_BYTES - 4);
      if (at === chunk.length) return false; // the header alone: no row in this message
    }
    const fields = chunk.readInt16BE(at);
    if (fields === -1) return false;
    this.buffer = chunk;
    this.at = at + 2;
    this.fields = fields;
    this.read = 0;
    return true;
  }

  /** Checks that the row was read to its end, field for field (a decoder out of step with its SELECT fails here). */
  end(): void {
    if (this.read !== this.fields || this.at !== this.buffer.length) {
      throw new Error(
        `binary COPY row: read ${this.read} of ${this.fields} fields, ${this.at} of ${this.buffer.length} bytes`,
      );
    }
  }

  /** An int2, int4 or int8 (exact below 2^53, as a number). */
  integer(): number | null {
    const length = this.length();
    if (length < 0) return null;
    const { buffer, at } = this;
    this.at += length;
    switch (length) {
      case 4:
        return buffer.readInt32BE(at);
      case 8:
        return buffer.readInt32BE(at) * TWO_32 + buffer.readUInt32BE(at + 4);
      case 2:
        return buffer.readInt16BE(at);
      default:
        throw new Error(`binary COPY: an integer of ${length} bytes`);
    }
  }

  /** A text or varchar (the connection's encoding is UTF-8, as `pg` sets it). */
  text(): string | null {
    const length = this.length();
    if (length < 0) return null;
    const { buffer, at, read } = this;
    this.at += length;
    if (length > REPEAT_MAX_BYTES) return buffer.toString('utf8', at, at + length);
    const previous = this.previous[read];
    if (previous !== undefined && previous.length === length && sameAscii(buffer, at, previous)) return previous;
    const text = buffer.toString('utf8', at, at + length);
    // As many characters as bytes: every byte was one ASCII character (or an invalid byte,
    // which no byte compares equal to), so equal bytes later decode to this same text.
    this.previous[read] = text.length === length ? text : undefined;
    return text;
  }

  /** A boolean. */
  boolean(): boolean | null {
    const length = this.length();
    if (length < 0) return null;
    if (length !== 1) throw new Error(`binary COPY: a boolean of ${length} bytes`);
    return this.buffer[this.at++] !== 0;
  }

  /**
   * A timestamptz (or timestamp) as epoch ms, rounded down to the ms: what
   * `floor(extract(epoch FROM t) * 1000)` gives, ±infinity as ±Infinity.
   */
  epochMs(): number | null {
    const length = this.length();
    if (length < 0) return null;
    if (length !== 8) throw new Error(`binary COPY: a timestamp of ${length} bytes`);
    const high = this.buffer.readInt32BE(this.at);
    const low = this.buffer.readUInt32BE(this.at + 4);
    this.at += 8;
    if (high === 0x7fffffff && low === 0xffffffff) return Infinity;
    if (high === -0x80000000 && low === 0) return -Infinity;
    // Microseconds since 2000: exact as a double for ±285 years around it.
    const us = high * TWO_32 + low;
    const belowMs = ((us % 1000) + 1000) % 1000;
    return (us - belowMs) / 1000 + POSTGRES_EPOCH_MS;
  }

  private length(): number {
    if (this.read === this.fields) throw new Error(`binary COPY row: more than its ${this.fields} fields read`);
    this.read++;
    const length = this.buffer.readInt32BE(this.at);
    this.at += 4;
    return length;
  }
}

/** Whether the bytes at `at` are `ascii`'s character codes, one byte each. */
function sameAscii(buffer: Buffer, at: number, ascii: string): boolean {
  for (let i = 0; i < ascii.length; i++) {
    if (buffer[at + i] !== ascii.charCodeAt(i)) return false;
  }
  return true;
}

/** The part of pg's connection a query submits through. */
interface Connection {
  query(text: string): void;
  sendCopyFail(message: string): void;
}

type Callback<Row> = (error: Error | null, rows?: Row[]) => void;

/**
 * A `pg` Submittable (`client.query(copy)` or `pool.query(copy)`) that runs one
 * `COPY (…) TO STDOUT (FORMAT binary)` by the simple protocol, decoding each row with
 * `decode`. The callback gets the rows, or the first error (the server's, or the
 * decoder's: a row that does not decode fails the whole read).
 */
export class CopyOutQuery<Row> {
  /** Set by `pg` from the callback argument of client.query (pool.query sets one). */
  callback: Callback<Row> | undefined;
  private readonly rows: Row[] = [];
  private readonly fields = new BinaryFields();
  private error: Error | null = null;
  private settled = false;

  constructor(
    readonly text: string,
    private readonly decode: (fields: BinaryFields) => Row,
  ) {}

  submit(connection: Connection): void {
    connection.query(this.text);
  }

  handleCopyData(message: { chunk: Buffer }): void {
    if (this.error !== null) return;
    try {
      if (!this.fields.begin(message.chunk)) return;
      const row = this.decode(this.fields);
      this.fields.end();
      this.rows.push(row);
    } catch (error) {
      this.error = error instanceof Error ? error : new Error(String(error));
    }
  }

  handleError(error: Error): void {
    this.settle(error);
  }

  handleReadyForQuery(): void {
    this.settle(this.error);
  }

  handleCopyInResponse(connection: Connection): void {
    connection.sendCopyFail('dbbeat: a COPY FROM was not expected');
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}

  private settle(error: Error | null): void {
    if (this.settled) return;
    this.settled = true;
    if (error !== null) this.callback?.(error);
    else this.callback?.(null, this.rows);
  }
}
