import { Webhook } from 'standardwebhooks';
import { NOTIFICATION_EVENT_TYPES } from '@app/common';
import {
  EVENT_TEXT,
  type OutboundEvent,
  adaptiveCard,
  summarise,
  slackRequest,
  teamsRequest,
  toCloudEvent,
  webhookRequest,
} from './messages';
import { validateAdaptiveCard } from '../../../../test/support/adaptive-card';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SP = '6f2d1c3a-1b2c-4d5e-8f90-123456789abc';

function event(type: string, data: Record<string, unknown> = {}): OutboundEvent {
  return {
    eventId: '0f8fad5b-d9cb-469f-a165-70867728950e',
    eventType: type,
    eventTime: new Date('2026-11-29T10:00:00.000Z'),
    servicePrincipalId: SP,
    jobId: 'scim.e4bbf44533ea4eabb17027f3a92e92aa',
    data: { servicePrincipalId: SP, jobId: 'scim.e4bbf44533ea4eabb17027f3a92e92aa', ...data },
  };
}

const TYPES = [
  'job.quarantined',
  'job.quarantine_reason_changed',
  'job.needs_attention',
  'job.recovered',
  'job.auto_disable_approaching',
  'attempt.unknown',
  'hold.placed',
  'hold.released',
  'approval.requested',
  'approval.decided',
];

describe('notification messages', () => {
  it('a webhook is a CloudEvents 1.0 structured event that the Standard Webhooks reference library verifies', () => {
    const now = new Date();
    const e = event('job.quarantined', { quarantineReason: 'EncounteredQuarantineException' });
    const req = webhookRequest(e, SECRET, now, 'https://guard.example/console');
    expect(req.headers['content-type']).toBe('application/cloudevents+json');
    expect(req.headers['webhook-id']).toBe(e.eventId);
    const verified = new Webhook(SECRET).verify(req.body, req.headers) as Record<string, unknown>;
    expect(verified).toMatchObject({
      specversion: '1.0',
      id: e.eventId,
      source: 'urn:sync-job-guard',
      type: 'job.quarantined',
      subject: `servicePrincipals/${SP}/synchronization/jobs/${e.jobId}`,
      time: '2026-11-29T10:00:00.000Z',
      datacontenttype: 'application/json',
      data: {
        quarantineReason: 'EncounteredQuarantineException',
        advice: { needsPerson: false },
        consoleUrl: `https://guard.example/console?servicePrincipalId=${SP}&jobId=${e.jobId}`,
      },
    });
    // A tampered body or another secret is refused.
    expect(() =>
      new Webhook(SECRET).verify(req.body.replace('quarantined', 'recovered'), req.headers),
    ).toThrow();
    expect(() =>
      new Webhook('whsec_' + Buffer.alloc(32, 7).toString('base64')).verify(req.body, req.headers),
    ).toThrow();
  });

  it('says what to do for the reason, from the one advice table', () => {
    const ce = toCloudEvent(event('job.needs_attention', { quarantineReason: 'TooManyDeletes' }), null);
    const advice = ce.data.advice as { steps: string[]; needsPerson: boolean };
    expect(advice.needsPerson).toBe(true);
    expect(advice.steps.join(' ')).toMatch(/ForceDeletion/);
    expect(ce.data.consoleUrl).toBeUndefined();
  });

  it.each(TYPES)(
    'the Teams message of %s is one Adaptive Card that the Adaptive Cards library accepts',
    (type) => {
      const e = event(type, {
        quarantineReason: 'TooManyDeletes',
        daysUntilAutoDisable: 7,
        autoDisableAt: '2026-12-06T10:00:00.000Z',
        message: 'left for a person',
        attemptId: '5c7a3a77-6a1f-4f39-9d59-7b1f0d1e2a3b',
      });
      const body = JSON.parse(teamsRequest(e, 'https://guard.example/console').body) as {
        type: string;
        attachments: Array<{ contentType: string; content: Record<string, unknown> }>;
      };
      expect(body.type).toBe('message');
      expect(body.attachments).toHaveLength(1);
      expect(body.attachments[0]?.contentType).toBe('application/vnd.microsoft.card.adaptive');
      expect(validateAdaptiveCard(body.attachments[0]?.content)).toEqual([]);
    },
  );

  it('the validator does reject a broken card (the check can fail)', () => {
    const card = adaptiveCard(event('job.quarantined'), null);
    expect(validateAdaptiveCard({ ...card, body: [{ type: 'NoSuchElement' }] })).not.toEqual([]);
    expect(validateAdaptiveCard({ ...card, version: undefined })).not.toEqual([]);
  });

  it('the card names the job, the reason, what to do and links to the console', () => {
    const card = JSON.stringify(
      adaptiveCard(
        event('job.quarantined', { quarantineReason: 'TooManyDeletes' }),
        'https://g.example/console',
      ),
    );
    expect(card).toContain('scim.e4bbf44533ea4eabb17027f3a92e92aa');
    expect(card).toContain('TooManyDeletes');
    expect(card).toContain('What to do');
    expect(card).toContain('Action.OpenUrl');
  });

  it('a Slack message has a fallback text and escaped blocks', () => {
    const body = JSON.parse(
      slackRequest(
        event('job.auto_disable_approaching', { daysUntilAutoDisable: 1, message: 'a <b> & c' }),
        null,
      ).body,
    ) as { text: string; blocks: Array<Record<string, unknown>> };
    expect(body.text).toMatch(/disabled by Entra ID in 1 day unless/);
    expect(JSON.stringify(body.blocks)).toContain('a &lt;b&gt; &amp; c');
    expect(body.blocks[0]).toMatchObject({ type: 'header' });
  });

  it('every event type has its title in the one table, and the list above covers them all', () => {
    expect(Object.keys(EVENT_TEXT).sort()).toEqual([...NOTIFICATION_EVENT_TYPES].sort());
    expect([...TYPES].sort()).toEqual([...NOTIFICATION_EVENT_TYPES].sort());
  });

  const HOLD = {
    holdId: '1a2b3c4d-0000-4000-8000-000000000001',
    reason: 'change freeze',
    until: '2026-12-01T00:00:00.000Z',
    placedBy: { id: 'alice-oid', name: 'Alice' },
  };

  it('hold.placed says what is held, why, by whom, until when and how to release it', () => {
    const s = summarise(event('hold.placed', HOLD));
    expect(s.title).toBe(
      'A hold stops starts of job scim.e4bbf44533ea4eabb17027f3a92e92aa until 2026-12-01T00:00:00.000Z',
    );
    expect(s.facts).toEqual(
      expect.arrayContaining([
        { title: 'Hold', value: HOLD.holdId },
        { title: 'Reason', value: 'change freeze' },
        { title: 'Placed by', value: 'Alice (alice-oid)' },
        { title: 'Until', value: HOLD.until },
      ]),
    );
    expect(s.steps.join(' ')).toContain(`DELETE /v1/holds/${HOLD.holdId}`);
    // The webhook's CloudEvent carries the same one-line summary as the Teams and Slack messages.
    expect(toCloudEvent(event('hold.placed', HOLD), null).data).toMatchObject({ ...HOLD, summary: s.title });
    const whole = summarise({ ...event('hold.placed', { ...HOLD, until: null }), jobId: null });
    expect(whole.title).toBe(
      `A hold stops starts of every job of service principal ${SP} until it is released`,
    );
  });

  it('hold.released names who released it', () => {
    const s = summarise(event('hold.released', { ...HOLD, releasedBy: { id: 'bob-oid', name: null } }));
    expect(s.title).toMatch(/hold on job scim\.\S+ was released: starts are allowed again/);
    expect(s.facts).toContainEqual({ title: 'Released by', value: 'bob-oid' });
  });

  const APPROVAL = {
    approvalId: '1a2b3c4d-0000-4000-8000-000000000002',
    operation: 'restart',
    resetScope: ['Full'],
    reason: 'schema changed',
    why: 'a Full restart re-evaluates every object',
    expiresAt: '2026-11-30T10:00:00.000Z',
    requestedBy: { type: 'user', id: 'alice-oid', name: 'Alice' },
  };

  it('approval.requested says what waits, who asked, until when, and how to approve or reject', () => {
    const s = summarise(event('approval.requested', APPROVAL));
    expect(s.title).toBe(
      'A restart (Full) of job scim.e4bbf44533ea4eabb17027f3a92e92aa waits for a second Admin’s approval',
    );
    expect(s.facts).toEqual(
      expect.arrayContaining([
        { title: 'Requested by', value: 'Alice (alice-oid)' },
        { title: 'Expires at', value: APPROVAL.expiresAt },
        { title: 'Why approval', value: APPROVAL.why },
      ]),
    );
    expect(s.steps.join(' ')).toContain(`POST /v1/approvals/${APPROVAL.approvalId}/approve`);
  });

  it.each([
    [{ decision: 'approved', decidedBy: { id: 'bob-oid', name: 'Bob' }, withdrawn: false }, /was approved$/],
    [{ decision: 'rejected', decidedBy: { id: 'bob-oid', name: 'Bob' }, withdrawn: false }, /was rejected$/],
    [
      { decision: 'rejected', decidedBy: { id: 'alice-oid', name: 'Alice' }, withdrawn: true },
      /was withdrawn by its requester$/,
    ],
    [
      { decision: 'expired', decidedBy: null, withdrawn: false },
      /expired without a decision: nothing was sent to Graph$/,
    ],
  ])('approval.decided %j has a title that says the decision', (decision, title) => {
    const e = event('approval.decided', { ...APPROVAL, ...decision });
    const s = summarise(e);
    expect(s.title).toMatch(title);
    expect(s.facts).toContainEqual({ title: 'Decision', value: decision.decision });
    const slack = JSON.parse(slackRequest(e, null).body) as { text: string };
    expect(slack.text).toBe(s.title);
  });
});
