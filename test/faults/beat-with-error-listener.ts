// Diagnostic stand-in for `dbbeat beat`, used only when DBBEAT_FAULT_BEAT=listener:
// the same startBeat() with a listener on the Beat's 'error' event. Without one, Node's
// EventEmitter turns the first emitted error into an uncaught exception and the process
// dies (see the fault-test report); with it, the fault tests can check what the beat does
// after a failed step. argv[2]: the BeatOptions as JSON.
import { startBeat, type BeatOptions } from '../../src/beat/index.js';

const options = JSON.parse(process.argv[2] ?? '{}') as BeatOptions;
const handle = await startBeat(options);
// Typed events make 'error' unlistenable here (its parameter type resolves to never); the
// plain EventEmitter view is the same object.
handle.beat.then((beat) => (beat as unknown as NodeJS.EventEmitter).on('error', () => undefined)).catch(() => undefined);
let stopping = false;
const shutdown = (): void => {
  if (stopping) return;
  stopping = true;
  handle.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
