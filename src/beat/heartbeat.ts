// The beat's row in dbbeat_beat, so the console lists standbys as well as the leader
// (issue 17). Best effort: a beat works without it, so a failed write only logs a warning.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

import type { BeatStore } from '../db/store.js';
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';

/** The package's version, from its package.json (two folders up from src/beat or dist/beat). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

/** Writes this beat's heartbeat at most every third of a lease time, and at once on a change of role. */
export class Heartbeat {
  private nextAt = 0;
  private lastRole: 'leader' | 'standby' | undefined;
  private warned = false;
  private written = false;
  private readonly version = packageVersion();

  constructor(
    private readonly store: Pick<BeatStore, 'heartbeat' | 'removeBeat'>,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly options: { holder: string; leaseName: string; leaseSeconds: number },
  ) {}

  /** Records the beat's role now if due (or changed). Never throws. */
  async beat(role: 'leader' | 'standby'): Promise<void> {
    if (role === this.lastRole && this.clock.monotonic() < this.nextAt) return;
    this.lastRole = role;
    this.nextAt = this.clock.monotonic() + (this.options.leaseSeconds * 1000) / 3;
    try {
      await this.store.heartbeat({
        instance: this.options.holder,
        leaseName: this.options.leaseName,
        hostname: hostname(),
        pid: process.pid,
        version: this.version,
        role,
        leaseSeconds: this.options.leaseSeconds,
      });
      this.written = true;
      this.warned = false;
    } catch (error) {
      if (!this.warned)
        this.log.warn(
          { err: error },
          "cannot record this beat in dbbeat_beat (run 'dbbeat migrate'); the console will not list it",
        );
      this.warned = true;
    }
  }

  /** Deletes the beat's row on a clean stop. Never throws: the row then shows as gone. */
  async remove(): Promise<void> {
    if (!this.written) return;
    try {
      await this.store.removeBeat(this.options.holder);
    } catch {
      // It is shown as gone once unseen for a few lease times.
    }
  }
}
