/**
 * The next run of every scheduled task, ordered by time: a binary min-heap with an
 * index by task id, so that the loop finds what is due in O(log n) per run and an
 * edited task is moved or removed without scanning. The work of one tick grows with
 * the number of due runs, not with the number of tasks.
 */
export class RunQueue {
  private readonly heap: number[] = []; // task ids
  private readonly dueAt = new Map<number, number>(); // task id -> epoch ms
  private readonly position = new Map<number, number>(); // task id -> heap index

  get size(): number {
    return this.heap.length;
  }

  has(taskId: number): boolean {
    return this.dueAt.has(taskId);
  }

  /** The time of the earliest run, or undefined when nothing is scheduled. */
  peekTime(): number | undefined {
    const first = this.heap[0];
    return first === undefined ? undefined : this.dueAt.get(first);
  }

  /** Schedules (or moves) a task's next run. */
  set(taskId: number, at: number): void {
    const index = this.position.get(taskId);
    this.dueAt.set(taskId, at);
    if (index === undefined) {
      this.heap.push(taskId);
      this.position.set(taskId, this.heap.length - 1);
      this.up(this.heap.length - 1);
    } else {
      this.up(index);
      this.down(this.position.get(taskId)!);
    }
  }

  delete(taskId: number): void {
    const index = this.position.get(taskId);
    if (index === undefined) return;
    const last = this.heap.pop()!;
    this.position.delete(taskId);
    this.dueAt.delete(taskId);
    if (index < this.heap.length) {
      this.heap[index] = last;
      this.position.set(last, index);
      this.up(index);
      this.down(this.position.get(last)!);
    }
  }

  /** Removes and returns up to `limit` task ids whose run is at or before `now`, earliest first. */
  popDue(now: number, limit: number): number[] {
    const due: number[] = [];
    while (due.length < limit) {
      const first = this.heap[0];
      if (first === undefined || this.dueAt.get(first)! > now) break;
      this.delete(first);
      due.push(first);
    }
    return due;
  }

  clear(): void {
    this.heap.length = 0;
    this.dueAt.clear();
    this.position.clear();
  }

  private less(a: number, b: number): boolean {
    return this.dueAt.get(this.heap[a]!)! < this.dueAt.get(this.heap[b]!)!;
  }

  private swap(a: number, b: number): void {
    const idA = this.heap[a]!;
    const idB = this.heap[b]!;
    this.heap[a] = idB;
    this.heap[b] = idA;
    this.position.set(idB, a);
    this.position.set(idA, b);
  }

  private up(index: number): void {
    let child = index;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!this.less(child, parent)) break;
      this.swap(child, parent);
      child = parent;
    }
  }

  private down(index: number): void {
    let parent = index;
    for (;;) {
      const left = parent * 2 + 1;
      const right = left + 1;
      let smallest = parent;
      if (left < this.heap.length && this.less(left, smallest)) smallest = left;
      if (right < this.heap.length && this.less(right, smallest)) smallest = right;
      if (smallest === parent) return;
      this.swap(parent, smallest);
      parent = smallest;
    }
  }
}
