// Where the Redis broker writes envelopes: bytes, in slabs reused from one publish to the
// next. A slab is memory outside V8's heap, and V8 runs a full (mark-compact) collection
// whenever such memory grows by some tens of megabytes: allocating fresh slabs for every
// publish, at 10,000 runs a second, set one off every few seconds, each pausing the beat.

/** Slabs of 64 KiB up, in powers of two, so that publishes of similar size reuse each other's. */
const SMALLEST_SLAB = 64 * 1024;

/**
 * Free slabs kept between publishes, up to `maxBytes` in all (the rest is left to the GC).
 * A slab goes back only once nothing reads it any more (EnvelopeArena.release).
 */
export class SlabPool {
  private readonly free: Buffer[] = [];
  private freeBytes = 0;

  constructor(private readonly maxBytes = 16 * 1024 * 1024) {}

  /** A slab of at least `bytes` bytes: the smallest free one that fits, else a new one. */
  take(bytes: number): Buffer {
    let best = -1;
    for (let index = 0; index < this.free.length; index++) {
      const length = this.free[index]!.length;
      if (length >= bytes && (best < 0 || length < this.free[best]!.length)) best = index;
    }
    if (best >= 0) {
      const [slab] = this.free.splice(best, 1);
      this.freeBytes -= slab!.length;
      return slab!;
    }
    let size = SMALLEST_SLAB;
    while (size < bytes) size *= 2;
    return Buffer.allocUnsafe(size);
  }

  /** Takes slabs back for reuse, as far as the pool's size allows. */
  give(slabs: readonly Buffer[]): void {
    for (const slab of slabs) {
      if (this.freeBytes + slab.length > this.maxBytes) continue;
      this.free.push(slab);
      this.freeBytes += slab.length;
    }
  }
}

/**
 * Where envelopes are written as UTF-8, one after another. What was written since the
 * last {@link cut} stays contiguous (moved to a larger slab when the current one is
 * full), so a script call's envelopes go to Redis as one argument. With a pool, the
 * slabs come from it and go back to it on {@link release}.
 */
export class EnvelopeArena {
  private slab: Buffer = Buffer.alloc(0);
  private start = 0;
  private used = 0;
  /** The slabs taken from the pool, given back on release (only kept with a pool). */
  private readonly taken: Buffer[] = [];

  /**
   * @param slabBytes the smallest slab taken
   * @param pool where slabs come from and go back to; none: each is allocated and left to the GC
   */
  constructor(
    private readonly slabBytes = 1 << 20,
    private readonly pool?: SlabPool,
  ) {}

  /** The slab to write up to `bytes` into, at {@link offset}. */
  room(bytes: number): Buffer {
    if (this.slab.length - this.used < bytes) {
      const open = this.used - this.start;
      const size = Math.max(this.slabBytes, 2 * (open + bytes));
      const slab = this.pool === undefined ? Buffer.allocUnsafe(size) : this.pool.take(size);
      if (this.pool !== undefined) this.taken.push(slab);
      this.slab.copy(slab, 0, this.start, this.used);
      this.slab = slab;
      this.start = 0;
      this.used = open;
    }
    return this.slab;
  }

  /** Where the next write starts in the slab {@link room} returned. */
  get offset(): number {
    return this.used;
  }

  /** Bytes left in the current slab. */
  get left(): number {
    return this.slab.length - this.used;
  }

  /** Keeps the `bytes` just written at {@link offset}. */
  commit(bytes: number): void {
    this.used += bytes;
  }

  /** Forgets the last `bytes` kept (a message refused after it was written). */
  drop(bytes: number): void {
    this.used -= bytes;
  }

  /** What was kept since the last cut, as one view. */
  cut(): Buffer {
    const view = this.slab.subarray(this.start, this.used);
    this.start = this.used;
    return view;
  }

  /**
   * Gives the slabs back to the pool and empties the arena. Only once no view cut from it
   * is read any more: for a publish, once Redis has answered every command that carries one.
   */
  release(): void {
    this.pool?.give(this.taken.splice(0));
    this.slab = Buffer.alloc(0);
    this.start = 0;
    this.used = 0;
  }
}
