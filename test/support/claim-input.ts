import { randomUUID } from 'node:crypto';
import { jobKey } from '@app/common';
import type { ClaimInput, ClaimWording } from '@app/persistence';

/**
 * Names every fact of the claim, so a test sees what the claim filled in. The product's wording is the guard
 * policy's (apps/api/src/jobs/guard-policy.ts); the repository takes any.
 */
export const FACT_WORDING: ClaimWording = {
  grantNarrowed: 'narrowed: {caller} not {servicePrincipalId}',
  grantRequired: 'required: {caller} for {servicePrincipalId}',
  hold: 'hold: {holdReason} by {holdPlacedBy} at {holdPlacedAt} until {holdUntil}',
  holdUntilReleased: 'hold: {holdReason} by {holdPlacedBy} at {holdPlacedAt} until released',
  cooldown: 'cooldown: {secondsLeft} s of {cooldownSeconds} s (100%)',
  inFlight: 'in flight: being decided',
  limit: 'limit: {limit} per {windowSeconds} s, {secondsLeft} s left',
};

/**
 * A claim of one job by an app (no grants apply), with a new attempt id, roomy limits and no cool-down message
 * surprises; `over` sets anything else.
 */
export function claimInput(
  servicePrincipalId: string,
  jobId: string,
  over: Partial<ClaimInput> = {},
): ClaimInput {
  return {
    attemptId: randomUUID(),
    jobKey: jobKey(servicePrincipalId, jobId),
    servicePrincipalId,
    jobId,
    trigger: 'api',
    actor: { type: 'app', id: 'caller', name: null },
    reason: null,
    dryRun: false,
    requestId: null,
    replicaId: 'replica-test',
    limit: 100,
    windowSeconds: 300,
    leaseSeconds: 30,
    cooldownSeconds: 600,
    grantPrincipalId: null,
    requireGrants: false,
    wording: FACT_WORDING,
    ...over,
  };
}
