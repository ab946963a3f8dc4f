import { OUTCOMES, type AttemptView, type Outcome } from '@app/common';
import { CLAIM_REFUSALS } from '@app/persistence';
import { GraphError } from '@app/graph';
import { attemptView } from '../../../../test/support/fixtures';
import { decisionAnswer, readErrorAnswer } from './door-answers';

const ids = { requestId: 'req-1', clientRequestId: 'client-1', date: new Date('2026-11-29T10:00:00.123Z') };

function attempt(outcome: Outcome, over: Partial<AttemptView> = {}): AttemptView {
  return attemptView({
    attemptId: '0e8f1f2a-1111-4111-8111-111111111111',
    createdAt: '2026-11-29T10:00:00.000Z',
    finishedAt: '2026-11-29T10:00:00.100Z',
    servicePrincipalId: 'sp',
    jobId: 'job',
    actor: { type: 'user', id: 'u', name: null },
    outcome,
    observedStatus: null,
    message: `message of ${outcome}`,
    ...over,
  });
}

describe('decisionAnswer (the door answers a guard decision as Graph would)', () => {
  it('answers 204 with no body only when the start was done', () => {
    expect(decisionAnswer({ attempt: attempt('started'), upstreamStatus: null }, ids)).toEqual({
      status: 204,
      headers: { 'sjg-attempt-id': '0e8f1f2a-1111-4111-8111-111111111111' },
    });
    for (const o of OUTCOMES.filter((x) => x !== 'started' && x !== 'paused' && x !== 'restarted')) {
      const a = decisionAnswer({ attempt: attempt(o), upstreamStatus: null }, ids);
      expect(a.status).toBeGreaterThanOrEqual(400);
      expect(a.body).toEqual({
        error: {
          code: expect.any(String),
          message: `message of ${o}`,
          innerError: {
            date: '2026-11-29T10:00:00',
            'request-id': 'req-1',
            'client-request-id': 'client-1',
            'sjg-attempt-id': '0e8f1f2a-1111-4111-8111-111111111111',
          },
        },
      });
    }
  });

  it.each([
    ['cooldown', 'JobInCooldown'],
    ['in_flight', 'JobStartInProgress'],
    ['limit', 'JobRateLimited'],
  ] as const)('a claim refused for %s is %s: 409 with Retry-After, never 429', (refusal, code) => {
    const a = decisionAnswer(
      { attempt: attempt('rate_limited', { retryAfterSeconds: 42 }), upstreamStatus: null, refusal },
      ids,
    );
    expect(a.status).toBe(409);
    expect(a.headers['Retry-After']).toBe('42');
    expect((a.body as { error: { code: string } }).error.code).toBe(code);
  });

  it('never answers a status that Graph SDK retry handlers retry (429, 503, 504) for a refusal of the guard', () => {
    for (const refusal of CLAIM_REFUSALS) {
      const outcome = refusal === 'grant' ? 'denied' : 'rate_limited';
      const a = decisionAnswer({ attempt: attempt(outcome), upstreamStatus: null, refusal }, ids);
      expect([429, 503, 504]).not.toContain(a.status);
    }
    for (const o of ['skipped', 'denied', 'rejected', 'forbidden', 'unknown', 'not_found'] as const) {
      expect([429, 503, 504]).not.toContain(
        decisionAnswer({ attempt: attempt(o), upstreamStatus: null }, ids).status,
      );
    }
  });

  it.each([
    ['rate_limited', null, 429, 'TooManyRequests'],
    ['upstream_error', 503, 503, 'ServiceUnavailable'],
    ['upstream_error', 504, 504, 'GatewayTimeout'],
    ['upstream_error', null, 502, 'UpstreamError'],
    ['skipped', null, 409, 'JobNotStartable'],
    ['denied', null, 403, 'Forbidden'],
    ['not_found', null, 404, 'Request_ResourceNotFound'],
    ['forbidden', null, 502, 'GuardIdentityForbidden'],
    ['rejected', null, 400, 'BadRequest'],
    ['unknown', null, 502, 'StartOutcomeUnknown'],
    ['held', null, 423, 'JobOnHold'],
    ['awaiting_approval', null, 409, 'ApprovalRequired'],
  ] as const)(
    "%s (Graph said %s) → %i %s: Graph's own statuses only when Graph said so",
    (o, up, status, code) => {
      const a = decisionAnswer({ attempt: attempt(o, { retryAfterSeconds: 7 }), upstreamStatus: up }, ids);
      expect(a.status).toBe(status);
      expect((a.body as { error: { code: string } }).error.code).toBe(code);
    },
  );
});

describe('decisionAnswer for guarded pause, restart and approvals', () => {
  it('answers paused and restarted with 204, and a pending approval with an error that says how to approve', () => {
    for (const o of ['paused', 'restarted'] as const) {
      expect(decisionAnswer({ attempt: attempt(o), upstreamStatus: null }, ids).status).toBe(204);
    }
    const pending = decisionAnswer(
      {
        attempt: attempt('awaiting_approval', { approvalId: '5a0c7c1e-2222-4222-8222-222222222222' }),
        upstreamStatus: null,
      },
      ids,
    );
    expect(pending.status).toBe(409);
    expect((pending.body as { error: { message: string } }).error.message).toContain(
      'POST /v1/approvals/5a0c7c1e-2222-4222-8222-222222222222/approve',
    );
  });
});

describe("readErrorAnswer (Graph's errors on list and get, passed through)", () => {
  it.each([
    [
      new GraphError('not_found', 'x', { status: 404, code: 'Request_ResourceNotFound' }),
      404,
      'Request_ResourceNotFound',
      undefined,
    ],
    [
      new GraphError('throttled', 'x', { status: 429, code: 'TooManyRequests', retryAfterSeconds: 2.1 }),
      429,
      'TooManyRequests',
      '3',
    ],
    [
      new GraphError('unavailable', 'x', { status: 503, retryAfterSeconds: 5 }),
      503,
      'ServiceUnavailable',
      '5',
    ],
    [new GraphError('unavailable', 'x', { status: 500 }), 502, 'UpstreamError', undefined],
    [new GraphError('timeout', 'x', { status: 504 }), 504, 'GatewayTimeout', undefined],
    [
      new GraphError('rejected', 'x', { status: 400, code: 'Request_BadRequest' }),
      400,
      'Request_BadRequest',
      undefined,
    ],
    [new GraphError('forbidden', 'x', { status: 403 }), 502, 'GuardIdentityForbidden', undefined],
    [new GraphError('token', 'x'), 502, 'UpstreamError', undefined],
  ])('%s → %i %s', (error, status, code, retryAfter) => {
    const a = readErrorAnswer(error, ids);
    expect(a.status).toBe(status);
    expect((a.body as { error: { code: string } }).error.code).toBe(code);
    expect(a.headers['Retry-After']).toBe(retryAfter);
  });
});
