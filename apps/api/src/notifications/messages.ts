import { Webhook } from 'standardwebhooks';
import {
  type NotificationEventType,
  type ReasonAdvice,
  adviceFor,
  isNotificationEventType,
} from '@app/common';
import type { OutboundEvent } from '@app/persistence';

/**
 * What a notification says, per destination kind (DESIGN section 2d). Pure functions of the stored event: a
 * retry sends the same content under the same event id. What a person should do comes from the one table of
 * quarantine advice (libs/common/src/quarantine.ts), shared with the job views and the console.
 */

/** The stored event as the dispatcher hands it over. */
export type { OutboundEvent };

/** CloudEvents `source` of every event. */
export const CLOUDEVENTS_SOURCE = 'urn:sync-job-guard';
export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json';

export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject?: string;
  time: string;
  datacontenttype: 'application/json';
  data: Record<string, unknown>;
}

export interface OutboundRequest {
  headers: Record<string, string>;
  body: string;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function subjectOf(e: OutboundEvent): string | undefined {
  return e.servicePrincipalId !== null && e.jobId !== null
    ? `servicePrincipals/${e.servicePrincipalId}/synchronization/jobs/${e.jobId}`
    : undefined;
}

/** The advice for the event's quarantine reason, when the event is about a quarantined job. */
export function eventAdvice(e: OutboundEvent): ReasonAdvice | null {
  const reason = text(e.data.quarantineReason);
  if (reason === null) {
    return null;
  }
  return adviceFor(reason);
}

/** A link to the job in the console, when NOTIFY_CONSOLE_URL is set. */
export function consoleLink(e: OutboundEvent, consoleUrl: string | null): string | null {
  if (consoleUrl === null) {
    return null;
  }
  const u = new URL(consoleUrl);
  if (e.servicePrincipalId !== null) {
    u.searchParams.set('servicePrincipalId', e.servicePrincipalId);
  }
  if (e.jobId !== null) {
    u.searchParams.set('jobId', e.jobId);
  }
  return u.toString();
}

/**
 * The CloudEvents 1.0 structured-mode event: the stored data, plus the one-line summary (the title of the Teams and
 * Slack messages), the advice and the console link.
 */
export function toCloudEvent(e: OutboundEvent, consoleUrl: string | null): CloudEvent {
  const advice = eventAdvice(e);
  const link = consoleLink(e, consoleUrl);
  const subject = subjectOf(e);
  return {
    specversion: '1.0',
    id: e.eventId,
    source: CLOUDEVENTS_SOURCE,
    type: e.eventType,
    ...(subject !== undefined ? { subject } : {}),
    time: e.eventTime.toISOString(),
    datacontenttype: 'application/json',
    data: {
      ...e.data,
      summary: summarise(e).title,
      ...(advice !== null
        ? { advice: { meaning: advice.meaning, steps: advice.steps, needsPerson: advice.needsPerson } }
        : {}),
      ...(link !== null ? { consoleUrl: link } : {}),
    },
  };
}

/**
 * A `webhook` request: the CloudEvent as JSON, signed per the Standard Webhooks spec with the destination's
 * `whsec_` secret (`webhook-id` is the event id, the same on every retry, so receivers deduplicate on it).
 */
export function webhookRequest(
  e: OutboundEvent,
  secret: string,
  now: Date,
  consoleUrl: string | null,
): OutboundRequest {
  const body = JSON.stringify(toCloudEvent(e, consoleUrl));
  const signature = new Webhook(secret).sign(e.eventId, now, body);
  return {
    headers: {
      'content-type': CLOUDEVENTS_CONTENT_TYPE,
      'webhook-id': e.eventId,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signature,
      'idempotency-key': e.eventId,
    },
    body,
  };
}

export interface Summary {
  title: string;
  facts: Array<{ title: string; value: string }>;
  details: string | null;
  steps: string[];
}

function jobName(e: OutboundEvent): string {
  return e.jobId ?? 'a job';
}

/** `{ id, name }` of a person in the stored data, as "Name (id)". */
function person(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) {
    return null;
  }
  const v = value as Record<string, unknown>;
  const id = text(v.id);
  const name = text(v.name);
  if (id === null) {
    return name;
  }
  return name !== null ? `${name} (${id})` : id;
}

/** What a hold covers: one job, or every job of its service principal. */
function holdScope(e: OutboundEvent): string {
  return e.jobId !== null
    ? `job ${e.jobId}`
    : `every job of service principal ${e.servicePrincipalId ?? '?'}`;
}

/** What an approval is for, e.g. "restart (Full) of job X". */
function approvalSubject(e: OutboundEvent): string {
  const operation = text(e.data.operation) ?? 'operation';
  const scope = Array.isArray(e.data.resetScope)
    ? e.data.resetScope.filter((x): x is string => typeof x === 'string')
    : [];
  return `${operation}${scope.length > 0 ? ` (${scope.join(', ')})` : ''} of job ${jobName(e)}`;
}

/** What one event type says: its title, its own facts and steps (the advice table adds the reason's steps). */
interface EventText {
  title(e: OutboundEvent): string;
  facts?(e: OutboundEvent): Summary['facts'];
  steps?(e: OutboundEvent): string[];
}

function fact(title: string, value: string | null): Summary['facts'] {
  return value === null ? [] : [{ title, value }];
}

/** The one table of what each event says, for the Teams card and the Slack message alike. */
export const EVENT_TEXT: Record<NotificationEventType, EventText> = {
  'job.quarantined': {
    title: (e) => {
      const reason = text(e.data.quarantineReason);
      return `Job ${jobName(e)} entered quarantine${reason !== null ? ` (${reason})` : ''}`;
    },
  },
  'job.quarantine_reason_changed': {
    title: (e) => {
      const reason = text(e.data.quarantineReason);
      const previous = text(e.data.previousQuarantineReason);
      return `Job ${jobName(e)} is still in quarantine, now for ${reason ?? 'an unknown reason'}${previous !== null ? ` (was ${previous})` : ''}`;
    },
  },
  'job.needs_attention': { title: (e) => `Job ${jobName(e)} needs a person` },
  'job.recovered': { title: (e) => `Job ${jobName(e)} recovered: it runs again`, steps: () => [] },
  'job.auto_disable_approaching': {
    title: (e) => {
      const days = num(e.data.daysUntilAutoDisable);
      return `Job ${jobName(e)} will be disabled by Entra ID in ${days ?? '?'} day${days === 1 ? '' : 's'} unless it leaves quarantine`;
    },
  },
  'attempt.unknown': {
    title: (e) => `A start of job ${jobName(e)} has an unknown outcome`,
    steps: () => [
      'Read the job’s status in the console or Graph: the start may or may not have been applied',
      'Start it again through the guard only if it is still paused or in quarantine',
    ],
  },
  'hold.placed': {
    title: (e) => {
      const until = text(e.data.until);
      return `A hold stops starts of ${holdScope(e)}${until !== null ? ` until ${until}` : ' until it is released'}`;
    },
    facts: (e) => [
      ...fact('Hold', text(e.data.holdId)),
      ...fact('Reason', text(e.data.reason)),
      ...fact('Placed by', person(e.data.placedBy)),
      { title: 'Until', value: text(e.data.until) ?? 'released by a person' },
    ],
    steps: (e) => [
      'Starts, restarts and recovery of the held jobs are refused (outcome held) while the hold applies',
      `Release it when the work is done: DELETE /v1/holds/${text(e.data.holdId) ?? '{holdId}'} (an Admin, or the person who placed it)`,
    ],
  },
  'hold.released': {
    title: (e) => `The hold on ${holdScope(e)} was released: starts are allowed again`,
    facts: (e) => [
      ...fact('Hold', text(e.data.holdId)),
      ...fact('Reason it was placed', text(e.data.reason)),
      ...fact('Placed by', person(e.data.placedBy)),
      ...fact('Released by', person(e.data.releasedBy)),
    ],
    steps: () => [],
  },
  'approval.requested': {
    title: (e) => `A ${approvalSubject(e)} waits for a second Admin’s approval`,
    facts: (e) => [
      ...fact('Approval', text(e.data.approvalId)),
      ...fact('Requested by', person(e.data.requestedBy)),
      ...fact('Reason', text(e.data.reason)),
      ...fact('Why approval', text(e.data.why)),
      ...fact('Expires at', text(e.data.expiresAt)),
    ],
    steps: (e) => {
      const id = text(e.data.approvalId) ?? '{approvalId}';
      return [
        'Another Admin reviews the request (the requester cannot approve it)',
        `Approve: POST /v1/approvals/${id}/approve, or reject: POST /v1/approvals/${id}/reject, before it expires`,
      ];
    },
  },
  'approval.decided': {
    title: (e) => {
      const decision = text(e.data.decision);
      if (decision === 'expired') {
        return `The ${approvalSubject(e)} expired without a decision: nothing was sent to Graph`;
      }
      const word = e.data.withdrawn === true ? 'withdrawn by its requester' : (decision ?? 'decided');
      return `The ${approvalSubject(e)} was ${word}`;
    },
    facts: (e) => [
      ...fact('Approval', text(e.data.approvalId)),
      ...fact('Decision', text(e.data.decision)),
      ...fact('Decided by', person(e.data.decidedBy)),
      ...fact('Decision reason', text(e.data.decisionReason)),
      ...fact('Requested by', person(e.data.requestedBy)),
    ],
    steps: (e) => (text(e.data.decision) === 'expired' ? ['Ask again if the operation is still needed'] : []),
  },
};

/** One title, a few facts and what to do: the common content of the Teams and Slack messages. */
export function summarise(e: OutboundEvent): Summary {
  const reason = text(e.data.quarantineReason);
  const autoDisableAt = text(e.data.autoDisableAt);
  const message = text(e.data.message);
  const advice = eventAdvice(e);
  const entry = isNotificationEventType(e.eventType) ? EVENT_TEXT[e.eventType] : null;
  const title =
    entry !== null ? entry.title(e) : `${e.eventType}${e.jobId !== null ? ` for job ${jobName(e)}` : ''}`;
  const facts: Summary['facts'] = [];
  if (e.servicePrincipalId !== null) {
    facts.push({ title: 'Service principal', value: e.servicePrincipalId });
  }
  if (e.jobId !== null) {
    facts.push({ title: 'Job', value: e.jobId });
  }
  if (reason !== null) {
    facts.push({ title: 'Quarantine reason', value: reason });
  }
  if (autoDisableAt !== null) {
    facts.push({ title: 'Auto-disable at', value: autoDisableAt });
  }
  const attemptId = text(e.data.attemptId);
  if (attemptId !== null) {
    facts.push({ title: 'Attempt', value: attemptId });
  }
  facts.push(...(entry?.facts?.(e) ?? []));
  facts.push({ title: 'Event', value: `${e.eventType} ${e.eventId}` });
  const steps = entry?.steps !== undefined ? entry.steps(e) : (advice?.steps ?? []);
  const details = [advice !== null && e.eventType !== 'job.recovered' ? advice.meaning : null, message]
    .filter((x): x is string => x !== null)
    .join(' ');
  return { title, facts, details: details.length > 0 ? details : null, steps };
}

/** The Adaptive Card (schema 1.4, what Teams renders) of an event. */
export function adaptiveCard(e: OutboundEvent, consoleUrl: string | null): Record<string, unknown> {
  const s = summarise(e);
  const link = consoleLink(e, consoleUrl);
  const body: Record<string, unknown>[] = [
    { type: 'TextBlock', text: s.title, size: 'Medium', weight: 'Bolder', wrap: true },
    { type: 'FactSet', facts: s.facts },
  ];
  if (s.details !== null) {
    body.push({ type: 'TextBlock', text: s.details, wrap: true });
  }
  if (s.steps.length > 0) {
    body.push({ type: 'TextBlock', text: 'What to do', weight: 'Bolder', wrap: true });
    s.steps.forEach((step, i) =>
      body.push({ type: 'TextBlock', text: `${i + 1}. ${step}`, wrap: true, spacing: 'None' }),
    );
  }
  return {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
    ...(link !== null
      ? { actions: [{ type: 'Action.OpenUrl', title: 'Open in the console', url: link }] }
      : {}),
  };
}

/** A Teams Workflows ("Post to a channel when a webhook request is received") request: one Adaptive Card. */
export function teamsRequest(e: OutboundEvent, consoleUrl: string | null): OutboundRequest {
  return {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: adaptiveCard(e, consoleUrl),
        },
      ],
    }),
  };
}

function slackEscape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A Slack incoming-webhook message: a plain-text fallback and Block Kit blocks. */
export function slackRequest(e: OutboundEvent, consoleUrl: string | null): OutboundRequest {
  const s = summarise(e);
  const link = consoleLink(e, consoleUrl);
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: s.title.slice(0, 150) } },
    {
      type: 'section',
      fields: s.facts
        .slice(0, 10)
        .map((f) => ({ type: 'mrkdwn', text: `*${f.title}*\n${slackEscape(f.value)}` })),
    },
  ];
  if (s.details !== null) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: slackEscape(s.details) } });
  }
  if (s.steps.length > 0) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*What to do*\n${s.steps.map((step, i) => `${i + 1}. ${slackEscape(step)}`).join('\n')}`,
      },
    });
  }
  if (link !== null) {
    blocks.push({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in the console' }, url: link }],
    });
  }
  return {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: s.title, blocks }),
  };
}
