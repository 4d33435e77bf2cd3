/** Ids below this are indexed by a flat array (4 bytes per id up to the largest seen); others by a Map. */
const DIRECT_LIMIT = 1 << 23;

/**
 * Task id -> the task table's dense slot. Task ids are a serial column, so most are small
 * and dense: those index a flat Int32Array (a million tasks: 4 MB, against some 50 MB for a
 * Map of a million entries); the rest go to a Map.
 */
export class SlotIndex {
  private direct = new Int32Array(0);
  private readonly other = new Map<number, number>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: number): number | undefined {
    if (isDirect(id)) {
      const slot = id < this.direct.length ? this.direct[id]! : -1;
      return slot < 0 ? undefined : slot;
    }
    return this.other.get(id);
  }

  set(id: number, slot: number): void {
    if (isDirect(id)) {
      if (id >= this.direct.length) this.grow(id + 1);
      if (this.direct[id]! < 0) this.count++;
      this.direct[id] = slot;
      return;
    }
    if (!this.other.has(id)) this.count++;
    this.other.set(id, slot);
  }

  delete(id: number): void {
    if (isDirect(id)) {
      if (id < this.direct.length && this.direct[id]! >= 0) {
        this.direct[id] = -1;
        this.count--;
      }
      return;
    }
    if (this.other.delete(id)) this.count--;
  }

  clear(): void {
    this.direct = new Int32Array(0);
    this.other.clear();
    this.count = 0;
  }

  private grow(needed: number): void {
    let size = Math.max(1024, this.direct.length);
    while (size < needed) size *= 2;
    const direct = new Int32Array(Math.min(size, DIRECT_LIMIT)).fill(-1);
    direct.set(this.direct);
    this.direct = direct;
  }
}

function isDirect(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id < DIRECT_LIMIT;
}
