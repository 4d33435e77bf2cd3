// Waiting for a started Celery worker to answer remote control.
import { ping, type RemoteControl } from '../../../src/outcomes/remote-control.js';

/**
 * The worker subscribes to its pidbox just after it logs "ready": asks (another process,
 * so it polls) until some worker answers ping, for up to `timeoutMs`; then the hostnames.
 */
export async function pingUntilAnswered(control: RemoteControl, timeoutMs = 20_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hosts = await ping(control);
    if (hosts.length > 0 || Date.now() > deadline) return hosts;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
