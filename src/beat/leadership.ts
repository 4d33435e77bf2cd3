import type { Emit } from './events.js';
import type { Heartbeat } from './heartbeat.js';
import type { Lease } from './lease.js';
import type { Logger } from './logger.js';
import type { Recorder } from './recorder.js';
import type { LeaseAnswer, LeaseRenewal } from './renewal.js';

/** What the beat does when leadership changes hands. */
export interface LeadershipHooks {
  /** This process became the leader: it loads every task before it sends. */
  becameLeader(): void;
  /** This process is no longer the leader: it forgets its tasks and records (Beat.stepDown). */
  stepDown(reason: string): void;
}

/**
 * Whether this process leads, kept by the lease: renews it a few times per time to live,
 * takes it when standing by or when it lapsed, acts on each answer (becomes leader, steps
 * down, stands by) and writes the beat's heartbeat row beside it.
 */
export class Leadership {
  private leader = false;
  private announcedStandby = false;
  /** The last heartbeat write, awaited before the row is removed on stop. */
  private heartbeating: Promise<void> = Promise.resolve();

  constructor(
    private readonly lease: Lease,
    private readonly renewal: LeaseRenewal,
    private readonly heartbeat: Heartbeat,
    private readonly recorder: Pick<Recorder, 'writing' | 'drain'>,
    private readonly log: Logger,
    private readonly emit: Emit,
    private readonly hooks: LeadershipHooks,
  ) {}

  get isLeader(): boolean {
    return this.leader;
  }

  /**
   * Renews the lease a few times per time to live; takes it when this process stands by
   * or it lapsed. A leader whose lease lapsed with a records write in flight waits for
   * that write first: its fence tells whether the lease was lost (then it steps down), and
   * no new lease is asked for before the runs sent under the old one are recorded.
   * @throws the lease request's error (the leader steps down first when its lease lapsed)
   */
  async keep(): Promise<void> {
    if (this.renewal.pending) {
      // A renewal sent beside the sending (SendRound) and not answered yet: while the lease
      // is surely held, the loop goes on (the answer wakes it); else it waits for it.
      if (this.leader && this.lease.isHeld && !this.renewal.answered) return;
      // Or one answered, or left by a wait that renewed the lease (LeaseRenewal.during) and was refused or failed.
      const answer = await this.renewal.take();
      if (answer !== undefined) await this.took(answer, this.leader);
    }
    if (this.leader && this.lease.isHeld) {
      // A renewal that falls due is sent beside the sending too (the step wakes for it): on
      // PostgreSQL it can wait behind a lock on the lease row for as long as the lease lives.
      if (this.renewal.due) this.renewal.start();
      return;
    }
    if (this.leader && !this.lease.isHeld && this.recorder.writing) await this.recorder.drain();
    const wasLeader = this.leader;
    this.renewal.start();
    const answer = await this.renewal.take();
    if (answer !== undefined) await this.took(answer, wasLeader);
  }

  /** Forgets the leadership (the lease dropped locally); called by the beat's stepDown. */
  lost(): void {
    this.leader = false;
    this.lease.drop();
  }

  /** Gives the lease up, if held, so a standby takes over at once, and removes the heartbeat row. */
  async release(): Promise<void> {
    if (this.leader) {
      await this.lease.release();
      this.log.info('stepped down: stopping');
    }
    this.leader = false;
    await this.heartbeating;
    await this.heartbeat.remove();
  }

  /** Acts on the lease's answer: reports it, and becomes leader, steps down or stands by. */
  private async took(answer: LeaseAnswer, wasLeader: boolean): Promise<void> {
    const { held, error } = answer;
    if (error !== undefined) {
      this.emit('lease', { held: false, wasLeader, error });
      this.renewal.retryNow();
      if (this.leader && !this.lease.isHeld) this.hooks.stepDown('the lease could not be renewed');
      throw error;
    }
    this.emit('lease', { held, wasLeader });
    this.heartbeating = this.heartbeat.beat(held ? 'leader' : 'standby');
    // A renewed leader's heartbeat is written beside the sending (it never throws); a change of role waits for it.
    if (held !== wasLeader || !held) await this.heartbeating;
    if (held && !this.leader) {
      this.leader = true;
      this.announcedStandby = false;
      this.hooks.becameLeader();
      this.log.info({ token: this.lease.token }, 'became leader');
      this.emit('leader', { token: this.lease.token ?? '' });
    } else if (!held && this.leader) {
      this.hooks.stepDown('another beat holds the lease');
    } else if (!held && !this.announcedStandby) {
      this.announcedStandby = true;
      this.log.info('standing by: another beat is the leader');
      this.emit('ready', { role: 'standby', tasks: 0, invalid: 0 });
    }
  }
}
