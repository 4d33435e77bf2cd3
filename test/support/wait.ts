// Waiting on real services: poll until a probe has an answer.

/** How waitFor polls. */
export interface WaitOptions {
  /** Give up after this many ms (default 30,000). */
  timeoutMs?: number;
  /** Ms between two probes (default 50). */
  intervalMs?: number;
  /** What to add to the timeout's message: the state that was waited on, in words. */
  explain?: () => Promise<string> | string;
}

/**
 * Calls `probe` until it returns something other than undefined, and returns that; real
 * time, one probe at a time.
 * @throws Error "timed out waiting for `what`" (and explain()'s text) after `timeoutMs`
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 30_000, intervalMs = 50, explain }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${explain ? `\n${await explain()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
