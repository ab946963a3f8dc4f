import type { AttemptView, Outcome, RecoveryState } from '@app/common/domain';

export type { AttemptView, Outcome, RecoveryState };
export type StoredOutcome = Outcome | 'pending';

export interface Quarantine {
  reason: string | null;
  currentBegan: string | null;
  nextAttempt: string | null;
  seriesBegan: string | null;
  seriesCount: number | null;
  error: { code: string | null; message: string | null; tenantActionable: boolean | null } | null;
}

export interface Job {
  servicePrincipalId: string;
  id: string;
  templateId: string | null;
  observedStatus: string;
  rawStatusCode: string | null;
  quarantine: Quarantine | null;
  lastExecution: {
    state: string | null;
    timeBegan: string | null;
    timeEnded: string | null;
    errorCode: string | null;
  } | null;
  countSuccessiveCompleteFailures: number | null;
  troubleshootingUrl: string | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface AttemptStats {
  from: string | null;
  to: string | null;
  total: number;
  byOutcome: Partial<Record<StoredOutcome, number>>;
}

export interface Watch {
  watchId: string;
  servicePrincipalId: string;
  jobId: string;
  createdAt: string;
  createdBy: string;
  state: RecoveryState;
  lastSeenStatus: string | null;
  lastQuarantineReason: string | null;
  lastSeenAt: string | null;
  failedAttempts: number;
  nextTryAt: string | null;
  lastAttemptId: string | null;
  lastMessage: string | null;
}

export interface Sweep {
  sweepId: string;
  startedAt: string;
  finishedAt: string | null;
  leader: string;
  jobsRead: number;
  started: number;
  skipped: number;
  needsAttention: number;
  errors: number;
  graphRequests: number;
  message: string | null;
}

export interface Grant {
  grantId: string;
  principalId: string;
  servicePrincipalId: string;
  createdAt: string;
  createdBy: string;
}

export interface GrantEvent {
  eventId: string;
  at: string;
  action: string;
  grantId: string;
  actor: { id: string; name: string | null };
  details: Record<string, unknown>;
}
