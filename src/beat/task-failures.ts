import type { Emit } from './events.js';
import type { Logger } from './logger.js';

/** First retry of a task whose message could not be sent, and the longest wait between tries. */
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 60_000;

interface Failing {
  name: string;
  reason: string;
  attempts: number;
  since: number;
}

/**
 * Failures that belong to one task (its message cannot be built, the broker refuses
 * that message alone: a wrong key type, a size limit): each failing task backs off on
 * its own, doubling from 1 s to 60 s, while every other task keeps its times. Only a
 * failure of the whole broker or database slows the loop. Each task's failure is
 * reported once per distinct reason, and once more when it goes through again.
 */
export class TaskFailures {
  private readonly failing = new Map<number, Failing>();

  constructor(
    private readonly log: Logger,
    private readonly emit: Emit,
  ) {}

  get size(): number {
    return this.failing.size;
  }

  /**
   * Notes a failed send of task `id` at `now` (epoch ms); returns when to try it again.
   */
  failed(id: number, name: string, error: Error, now: number): number {
    const reason = error.message;
    const previous = this.failing.get(id);
    const attempts = (previous?.attempts ?? 0) + 1;
    const retryInMs = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempts - 1));
    this.failing.set(id, { name, reason, attempts, since: previous?.since ?? now });
    if (previous?.reason !== reason) {
      this.log.error(
        { taskId: id, task: name, reason, retryInMs },
        `cannot send task ${JSON.stringify(name)}: ${reason}; retrying this task alone with backoff (the others are not held up)`,
      );
      this.emit('runFailed', { id, name, reason, retryInMs });
    } else {
      this.log.debug(
        { taskId: id, task: name, attempts, retryInMs },
        `task ${JSON.stringify(name)} still cannot be sent`,
      );
    }
    return now + retryInMs;
  }

  /** Notes that task `id` went through; says so when it had been failing. */
  succeeded(id: number, now: number): void {
    const previous = this.failing.get(id);
    if (previous === undefined) return;
    this.failing.delete(id);
    this.log.info(
      { taskId: id, task: previous.name, attempts: previous.attempts, failingMs: now - previous.since },
      `task ${JSON.stringify(previous.name)} is sent again after ${previous.attempts} failed attempt(s)`,
    );
  }

  forget(id: number): void {
    this.failing.delete(id);
  }

  clear(): void {
    this.failing.clear();
  }
}
