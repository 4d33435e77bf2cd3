// Everything the benchmark creates (child processes, databases, Redis keys) registers
// an undo action here, so a normal end, a failure and Ctrl-C all leave nothing behind.

type CleanupAction = () => Promise<void> | void;

const actions = new Map<number, { label: string; action: CleanupAction }>();
let nextId = 0;
let signalsInstalled = false;

/**
 * Registers an undo action. Returns a function that runs it now (once) and forgets it,
 * for callers that clean up as soon as a workload ends.
 */
export function onCleanup(label: string, action: CleanupAction): () => Promise<void> {
  const id = nextId++;
  actions.set(id, { label, action });
  return async () => {
    const entry = actions.get(id);
    if (entry === undefined) return;
    actions.delete(id);
    await runOne(entry.label, entry.action);
  };
}

let inFlight: Promise<void> = Promise.resolve();
let shuttingDown = false;

/**
 * Runs every registered action, newest first (processes stop before their databases drop).
 * Calls made while a run is in progress wait for it, so nobody exits halfway through.
 */
export function runAllCleanups(): Promise<void> {
  inFlight = inFlight.then(async () => {
    const entries = [...actions.entries()].reverse();
    actions.clear();
    for (const [, { label, action }] of entries) await runOne(label, action);
  });
  return inFlight;
}

/** True once SIGINT/SIGTERM has started the cleanup: the signal handler owns the exit. */
export function isShuttingDown(): boolean {
  return shuttingDown;
}

async function runOne(label: string, action: CleanupAction): Promise<void> {
  try {
    await action();
  } catch (error) {
    process.stderr.write(`bench cleanup "${label}" failed: ${String(error)}\n`);
  }
}

/** On SIGINT/SIGTERM: clean up, then exit with the conventional code. */
export function installSignalCleanup(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      shuttingDown = true;
      process.stderr.write(`\n${signal}: cleaning up benchmark processes and databases…\n`);
      void runAllCleanups().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}
