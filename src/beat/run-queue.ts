/**
 * The next run of every scheduled task, ordered by time: a binary min-heap of small
 * integer handles (the task table's dense slots), so that the loop finds what is due in
 * O(log n) per run and an edited task is moved or removed without scanning. The work of
 * one tick grows with the number of due runs, not with the number of tasks.
 *
 * Flat typed arrays, no Map and no object per task: a million tasks cost about 20 MB here,
 * and the heap's comparisons read its own array of times (kept in heap order) rather than
 * looking each time up. A full load fills it with {@link defer}: handles are appended
 * unordered and the heap is built once (O(n)) on the next read.
 */
export class RunQueue {
  /** Handles in heap order. */
  private heap = new Int32Array(1024);
  /** heapTimes[i]: the time (epoch ms) of heap[i]. */
  private heapTimes = new Float64Array(1024);
  /** position[handle]: its index in the heap, -1 when not queued. */
  private position = new Int32Array(1024).fill(-1);
  private length = 0;
  /** Handles were added without ordering: the heap is built before the next read. */
  private unordered = false;

  get size(): number {
    return this.length;
  }

  has(handle: number): boolean {
    return handle >= 0 && handle < this.position.length && this.position[handle]! >= 0;
  }

  /** The time a queued handle is due at, or undefined when it is not queued. */
  timeOf(handle: number): number | undefined {
    return this.has(handle) ? this.heapTimes[this.position[handle]!] : undefined;
  }

  /** The time of the earliest run, or undefined when nothing is scheduled. */
  peekTime(): number | undefined {
    this.order();
    return this.length === 0 ? undefined : this.heapTimes[0];
  }

  /**
   * Until the next read, adds and moves without ordering the heap (a full load: n appends
   * and one O(n) build instead of n sift-ups).
   */
  defer(): void {
    this.unordered = true;
  }

  /** Schedules (or moves) a handle's next run. */
  set(handle: number, at: number): void {
    if (handle >= this.position.length) this.growPositions(handle + 1);
    let index = this.position[handle]!;
    if (index < 0) {
      if (this.length === this.heap.length) this.growHeap();
      index = this.length++;
      this.heap[index] = handle;
      this.position[handle] = index;
      this.heapTimes[index] = at;
      if (!this.unordered) this.up(index);
      return;
    }
    const before = this.heapTimes[index]!;
    this.heapTimes[index] = at;
    if (this.unordered) return;
    if (at < before) this.up(index);
    else if (at > before) this.down(index);
  }

  delete(handle: number): void {
    if (!this.has(handle)) return;
    const index = this.position[handle]!;
    this.position[handle] = -1;
    const lastIndex = --this.length;
    if (index === lastIndex) return;
    const last = this.heap[lastIndex]!;
    const lastTime = this.heapTimes[lastIndex]!;
    const removedTime = this.heapTimes[index]!;
    this.heap[index] = last;
    this.heapTimes[index] = lastTime;
    this.position[last] = index;
    if (this.unordered) return;
    if (lastTime < removedTime) this.up(index);
    else this.down(index);
  }

  /** Removes and returns up to `limit` handles whose run is at or before `now`, earliest first. */
  popDue(now: number, limit: number): number[] {
    this.order();
    const due: number[] = [];
    while (due.length < limit && this.length > 0 && this.heapTimes[0]! <= now) {
      const first = this.heap[0]!;
      this.delete(first);
      due.push(first);
    }
    return due;
  }

  /**
   * Handles whose run is after `after` and at or before `until` (epoch ms), at most
   * `limit`, in no particular order; the queue is left as it is. Walks only the part of
   * the heap at or before `until`: O(handles due by then).
   */
  dueBetween(after: number, until: number, limit: number): number[] {
    this.order();
    const found: number[] = [];
    const stack: number[] = this.length > 0 ? [0] : [];
    while (stack.length > 0 && found.length < limit) {
      const index = stack.pop()!;
      const time = this.heapTimes[index]!;
      if (time > until) continue; // so is everything below it
      if (time > after) found.push(this.heap[index]!);
      const child = index * 2 + 1;
      if (child < this.length) stack.push(child);
      if (child + 1 < this.length) stack.push(child + 1);
    }
    return found;
  }

  clear(): void {
    if (this.length > 0) this.position.fill(-1);
    this.length = 0;
    this.unordered = false;
  }

  /** Builds the heap from unordered handles (Floyd's method, O(n)). */
  private order(): void {
    if (!this.unordered) return;
    this.unordered = false;
    for (let index = (this.length >> 1) - 1; index >= 0; index--) this.down(index);
  }

  private up(index: number): void {
    const heap = this.heap;
    const times = this.heapTimes;
    const position = this.position;
    const handle = heap[index]!;
    const time = times[index]!;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentTime = times[parent]!;
      if (time >= parentTime) break;
      const parentHandle = heap[parent]!;
      heap[index] = parentHandle;
      times[index] = parentTime;
      position[parentHandle] = index;
      index = parent;
    }
    heap[index] = handle;
    times[index] = time;
    position[handle] = index;
  }

  private down(index: number): void {
    const heap = this.heap;
    const times = this.heapTimes;
    const position = this.position;
    const length = this.length;
    const handle = heap[index]!;
    const time = times[index]!;
    for (;;) {
      let child = index * 2 + 1;
      if (child >= length) break;
      let childTime = times[child]!;
      const right = child + 1;
      if (right < length && times[right]! < childTime) {
        child = right;
        childTime = times[right]!;
      }
      if (childTime >= time) break;
      const childHandle = heap[child]!;
      heap[index] = childHandle;
      times[index] = childTime;
      position[childHandle] = index;
      index = child;
    }
    heap[index] = handle;
    times[index] = time;
    position[handle] = index;
  }

  private growHeap(): void {
    const heap = new Int32Array(this.heap.length * 2);
    heap.set(this.heap);
    this.heap = heap;
    const times = new Float64Array(this.heapTimes.length * 2);
    times.set(this.heapTimes);
    this.heapTimes = times;
  }

  private growPositions(needed: number): void {
    let size = this.position.length;
    while (size < needed) size *= 2;
    const position = new Int32Array(size).fill(-1);
    position.set(this.position);
    this.position = position;
  }
}
