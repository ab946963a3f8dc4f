import { Inject, Injectable, Logger } from '@nestjs/common';
import { type LeaderTerm, RecoveryRepository } from '@app/persistence';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { PeriodicWork } from '../scheduling/periodic-work';

/** Name of the leader's heartbeat in the scheduler. */
export const RECOVERY_HEARTBEAT_NAME = 'recovery-lease-heartbeat';

/** What the lease needs from the database. */
export type LeaseStore = Pick<
  RecoveryRepository,
  'claimLeadership' | 'renewLeadership' | 'releaseLeadership'
>;

/** This replica's leadership as a sweep sees it: its fencing term, and whether another replica took over. */
export interface SweepLeader {
  readonly term: LeaderTerm;
  /** Set by the heartbeat (or a fenced write) when another replica took over: stop at once. */
  readonly lost: boolean;
  /** A fenced write found a newer term: give the leadership up. */
  lose(why: string): void;
}

interface Leadership {
  term: LeaderTerm;
  lost: boolean;
  beating: boolean;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The recovery leader lease (DESIGN section 3a), held in PostgreSQL (RecoveryRepository.claimLeadership: one
 * atomic statement, no transaction held while Graph answers), so exactly one replica sweeps at a time. The
 * leader renews it at each sweep and by a heartbeat, independent of the sweep's progress; a leader that stops
 * gives it up at once.
 */
@Injectable()
export class RecoveryLease {
  private readonly logger = new Logger(RecoveryLease.name);
  private current: Leadership | null = null;

  constructor(
    @Inject(RecoveryRepository) private readonly repo: LeaseStore,
    private readonly periodic: PeriodicWork,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Lease length: half an interval (2 to 60 s). The leader renews it by a heartbeat every third of it, independent
   * of the sweep's progress, so a live leader never loses it to a slow batch, and a dead leader's lease runs out well
   * within one interval: the next tick of any replica after that takes over (DESIGN 3a).
   */
  get seconds(): number {
    return Math.min(60, Math.max(2, Math.ceil(this.config.recovery.intervalSeconds / 2)));
  }

  /** Claims (or renews) the lease for this replica; false when another replica holds it. May throw. */
  async claim(): Promise<boolean> {
    return (await this.repo.claimLeadership(this.config.replicaId, this.seconds)) !== null;
  }

  /**
   * Leads: keeps the current leadership when its heartbeat still holds it, else claims the lease (a new term) and
   * starts the heartbeat. Null when another replica leads. May throw (database unreachable).
   */
  async lead(): Promise<SweepLeader | null> {
    const current = this.current;
    if (current !== null && !current.lost) {
      if (await this.repo.renewLeadership(current.term, this.seconds)) {
        return this.view(current);
      }
      this.lose(current, 'its lease could not be renewed');
    }
    const term = await this.repo.claimLeadership(this.config.replicaId, this.seconds);
    if (term === null) {
      return null;
    }
    const leader: Leadership = { term, lost: false, beating: false };
    this.current = leader;
    // The heartbeat: renews every third of the lease, whatever the sweep is doing.
    this.periodic.every(RECOVERY_HEARTBEAT_NAME, Math.max(250, (this.seconds * 1000) / 3), () => {
      void this.beat(leader);
    });
    return this.view(leader);
  }

  /** Stops the heartbeat and gives the lease up (shutdown). Never throws. */
  async release(): Promise<void> {
    if (this.current !== null) {
      this.lose(this.current, 'the replica is stopping');
    }
    try {
      await this.repo.releaseLeadership(this.config.replicaId);
    } catch (error) {
      this.logger.warn(`could not release the recovery lease: ${describe(error)}`);
    }
  }

  private view(leader: Leadership): SweepLeader {
    return {
      term: leader.term,
      get lost() {
        return leader.lost;
      },
      lose: (why) => this.lose(leader, why),
    };
  }

  private async beat(leader: Leadership): Promise<void> {
    if (leader.lost || leader.beating) {
      return;
    }
    leader.beating = true;
    try {
      if (!(await this.repo.renewLeadership(leader.term, this.seconds))) {
        this.lose(leader, 'another replica holds the lease');
      }
    } catch (error) {
      // The database is away: the lease may run out; the fenced writes and the next beat decide.
      this.logger.warn(`recovery lease heartbeat failed: ${describe(error)}`);
    } finally {
      leader.beating = false;
    }
  }

  private lose(leader: Leadership, why: string): void {
    if (!leader.lost) {
      this.logger.warn(`recovery leadership (term ${leader.term.term}) lost: ${why}`);
    }
    leader.lost = true;
    if (this.current === leader) {
      this.current = null;
      this.periodic.cancel(RECOVERY_HEARTBEAT_NAME);
    }
  }
}
