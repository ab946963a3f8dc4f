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
  /** Graph's own pause after pruning escrows (not a person's pause). Absent from older API versions. */
  escrowPause?: boolean;
  /** The hold that applies to the job now, if any. */
  hold?: Hold | null;
}

export interface Person {
  id: string;
  name: string | null;
}

/** A hold (DESIGN 2c): while active, every start and restart of the job is refused with outcome `held`. */
export interface Hold {
  holdId: string;
  servicePrincipalId: string;
  /** null: every job of the service principal. */
  jobId: string | null;
  reason: string;
  until: string | null;
  placedAt: string;
  placedBy: Person;
  releasedAt: string | null;
  releasedBy: Person | null;
  active: boolean;
}

export const APPROVAL_STATES = ['pending', 'approved', 'rejected', 'expired'] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

/** A request of the two-person rule (DESIGN 2c). */
export interface Approval {
  approvalId: string;
  servicePrincipalId: string;
  jobId: string;
  operation: 'start' | 'pause' | 'restart';
  resetScope: string[];
  reason: string | null;
  why: string;
  state: ApprovalState;
  requestedAt: string;
  expiresAt: string;
  requestedBy: Person & { type: string };
  requestAttemptId: string;
  decidedAt: string | null;
  decidedBy: Person | null;
  decisionReason: string | null;
  attemptId: string | null;
}

export interface Destination {
  destinationId: string;
  kind: string;
  name: string | null;
  url: string;
  hasSecret: boolean;
  eventTypes: string[];
  servicePrincipalIds: string[];
  managed: boolean;
  createdAt: string;
  createdBy: string;
}

export interface Delivery {
  deliveryId: string;
  eventId: string;
  eventType: string;
  eventTime: string;
  servicePrincipalId: string | null;
  jobId: string | null;
  destinationId: string;
  destinationKind: string;
  state: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  deadAt: string | null;
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
