import { type AttemptView, quarantineClock, reasonNeedsPerson } from '@app/common';
import type { GraphError, SyncJob } from '@app/graph';
import type { WatchRecord } from '@app/persistence';

/**
 * Scheduled recovery's rules as pure functions (DESIGN section 3a): given a watch and what the sweep saw,
 * the watch's next state. No I/O here; RecoveryService reads Graph, asks the guard and saves the result.
 *
 * States: ok (nothing to do), recovering (a start was sent; the next sweep checks it held), backing_off
 * (failed recoveries; next try later), needs_attention (a person must act: a reason that needs a person, or
 * too many failed recoveries). A job that leaves quarantine (by itself, or paused by a person) resets to ok.
 */
export interface RecoveryRules {
  maxAttempts: number;
  /** Added to the built-in reasons that need a person (TooManyDeletes, QuarantinedOnDemand), never replacing them. */
  needsPersonReasons: string[];
  backoffSeconds: number[];
}

/** What the sweep tallies for one watch, for the sweep row. */
export type Tally = 'none' | 'started' | 'skipped' | 'needs_attention' | 'failed' | 'error';

export interface Verdict {
  record: WatchRecord;
  tally: Tally;
}

export interface ReadVerdict extends Verdict {
  /** Put the job through the guard (quarantined, reason allows it, not escalated, not a relapse). */
  decide: boolean;
}

export function needsPerson(reason: string | null, rules: RecoveryRules): boolean {
  return reasonNeedsPerson(reason, rules.needsPersonReasons);
}

/** Delay after the n-th failure in a row (n starting at 1), capped at the last configured step. */
export function backoffSeconds(failures: number, rules: RecoveryRules): number {
  const steps = rules.backoffSeconds;
  if (steps.length === 0) {
    return 0;
  }
  const index = Math.min(Math.max(failures - 1, 0), steps.length - 1);
  return steps[index] ?? steps[steps.length - 1] ?? 0;
}

/** The guard's extra rule for recovery: only quarantine, and only reasons a start can fix. */
export function recoveryRefusal(job: SyncJob, rules: RecoveryRules): string | null {
  if (job.observedStatus === 'paused' && job.escrowsPruned === true) {
    return 'Recovery never starts a job that Graph paused itself after pruning escrows (escrowsPruned): the errors must be cleaned up first';
  }
  if (job.observedStatus !== 'quarantine') {
    return job.observedStatus === 'paused'
      ? 'Recovery starts only quarantined jobs; this one is paused, so a person paused it and it stays paused'
      : `Recovery starts only quarantined jobs; this one reads ${job.observedStatus}`;
  }
  const reason = job.quarantine?.reason ?? null;
  if (needsPerson(reason, rules)) {
    return `Quarantine reason ${reason} needs a person; recovery never starts it`;
  }
  return null;
}

function addSeconds(d: Date, seconds: number): Date {
  return new Date(d.getTime() + seconds * 1000);
}

/** One more failed recovery: back off, or escalate to needs_attention after maxAttempts. */
export function recordFailure(
  record: WatchRecord,
  message: string,
  now: Date,
  rules: RecoveryRules,
): Verdict {
  const failures = record.failedAttempts + 1;
  const what = message.replace(/[.\s]+$/, '');
  if (failures >= rules.maxAttempts) {
    return {
      record: {
        ...record,
        state: 'needs_attention',
        failedAttempts: failures,
        nextTryAt: null,
        lastMessage: `${what}. ${failures} failed recoveries in a row (RECOVERY_MAX_ATTEMPTS=${rules.maxAttempts}): left for a person`,
      },
      tally: 'needs_attention',
    };
  }
  const wait = backoffSeconds(failures, rules);
  return {
    record: {
      ...record,
      state: 'backing_off',
      failedAttempts: failures,
      nextTryAt: addSeconds(now, wait),
      lastMessage: `${what}. Failed recovery ${failures} of ${rules.maxAttempts}; next try in ${wait} s`,
    },
    tally: 'failed',
  };
}

function settled(record: WatchRecord, message: string): Verdict {
  return {
    record: { ...record, state: 'ok', failedAttempts: 0, nextTryAt: null, lastMessage: message },
    tally: 'none',
  };
}

/** When the job's quarantine series began (the quarantine clock), or null when Graph did not say. */
function seriesBegan(job: SyncJob): Date | null {
  const since = quarantineClock(job.quarantine).since;
  return since === null ? null : new Date(since);
}

/** The watch after its job was read (in a `$batch`). */
export function afterRead(watch: WatchRecord, job: SyncJob, now: Date, rules: RecoveryRules): ReadVerdict {
  const reason = job.quarantine?.reason ?? null;
  const seen: WatchRecord = {
    ...watch,
    lastSeenStatus: job.observedStatus,
    lastQuarantineReason: job.observedStatus === 'quarantine' ? reason : null,
    lastSeenAt: now,
    quarantineSince: job.observedStatus === 'quarantine' ? seriesBegan(job) : null,
  };
  if (job.observedStatus !== 'quarantine') {
    let message: string;
    if (job.observedStatus === 'paused' && job.escrowsPruned === true) {
      message =
        'Job is paused by Graph itself after pruning escrows (escrowsPruned): clean up the errors; recovery leaves it alone';
    } else if (job.observedStatus === 'paused') {
      message = 'Job is paused: a person paused it, so recovery leaves it alone';
    } else if (watch.state === 'recovering' && job.observedStatus === 'active') {
      message = 'Recovered: the job reads active after the recovery start';
    } else {
      message = `Job reads ${job.observedStatus}; nothing to recover`;
    }
    return { ...settled(seen, message), decide: false };
  }
  if (needsPerson(reason, rules)) {
    return {
      record: {
        ...seen,
        state: 'needs_attention',
        nextTryAt: null,
        lastMessage: `Quarantined for ${reason}: a person must fix the cause; recovery never starts it`,
      },
      tally: 'needs_attention',
      decide: false,
    };
  }
  if (watch.state === 'needs_attention' && watch.failedAttempts >= rules.maxAttempts) {
    // Escalated: stays with a person until the job leaves quarantine (or the watch is re-created).
    return { record: seen, tally: 'needs_attention', decide: false };
  }
  if (watch.state === 'recovering') {
    const after = watch.lastAttemptId ? ` after recovery attempt ${watch.lastAttemptId}` : '';
    return {
      ...recordFailure(seen, `Back in quarantine (${reason ?? 'no reason given'})${after}`, now, rules),
      decide: false,
    };
  }
  return { record: seen, tally: 'none', decide: true };
}

/** The watch after a Graph error for its item (not throttling: the sweep stops reading on that). */
export function afterReadError(watch: WatchRecord, error: GraphError): Verdict {
  if (error.kind === 'not_found') {
    return {
      record: {
        ...watch,
        state: 'needs_attention',
        nextTryAt: null,
        lastMessage: 'Graph found no such job: fix the service principal or job id, or delete the watch',
      },
      tally: 'needs_attention',
    };
  }
  return {
    record: { ...watch, lastMessage: `Could not read the job: ${error.message}` },
    tally: 'error',
  };
}

/** The watch after the guard decided on a quarantined job. */
export function afterDecision(
  record: WatchRecord,
  decision: { attempt: AttemptView; job: SyncJob | null },
  now: Date,
  rules: RecoveryRules,
): Verdict {
  const { attempt, job } = decision;
  const withAttempt: WatchRecord = { ...record, lastAttemptId: attempt.attemptId };
  const message = attempt.message ?? attempt.outcome;
  switch (attempt.outcome) {
    case 'started':
      return {
        record: {
          ...withAttempt,
          state: 'recovering',
          nextTryAt: null,
          lastSeenStatus: job?.observedStatus ?? withAttempt.lastSeenStatus,
          lastMessage: `Recovery start sent: ${message}`,
        },
        tally: 'started',
      };
    case 'skipped':
    case 'dry_run': {
      if (job !== null) {
        // The guard's fresh read disagreed with the batch read: apply what it saw, without deciding again.
        const v = afterRead(withAttempt, job, now, rules);
        if (v.tally === 'needs_attention') {
          return { record: v.record, tally: v.tally };
        }
        return {
          record: { ...v.record, lastMessage: `Recovery skipped: ${message}` },
          tally: 'skipped',
        };
      }
      return { record: { ...withAttempt, lastMessage: `Recovery skipped: ${message}` }, tally: 'skipped' };
    }
    case 'held':
      // A person holds the job on purpose (DESIGN 2c): shown as held, not counted as a failed recovery.
      return {
        record: {
          ...withAttempt,
          state: 'held',
          nextTryAt: null,
          lastSeenStatus: job?.observedStatus ?? withAttempt.lastSeenStatus,
          lastMessage: `Recovery held: ${message}`,
        },
        tally: 'skipped',
      };
    case 'rate_limited':
      // Not a failure: the per-job limit or the cool-down; try again once it allows.
      return {
        record: {
          ...withAttempt,
          nextTryAt: attempt.retryAfterSeconds !== null ? addSeconds(now, attempt.retryAfterSeconds) : null,
          lastMessage: `Recovery waits: ${message}`,
        },
        tally: 'skipped',
      };
    default:
      return recordFailure(
        withAttempt,
        `Recovery attempt ${attempt.attemptId} ended ${attempt.outcome}: ${message}`,
        now,
        rules,
      );
  }
}
