import {
  GUID_PATTERN,
  NOTIFICATION_DELIVERY_STATES,
  NOTIFICATION_DESTINATION_KINDS,
  NOTIFICATION_EVENT_TYPES,
  type NotificationDeliveryState,
  type NotificationDestinationKind,
  isNotificationEventType,
  unknownKeys,
  type ParsedInput,
} from '@app/common';
import type { DestinationInput, KeysetPosition } from '@app/persistence';
import { isWebhookSecret } from '../config/app-config';

/** Strict parsing of the notifications API's input: unknown fields, wrong types and bad values are refused. */

/** A destination as the caller sends it; who created it comes from the token. */
export type DestinationBody = Omit<DestinationInput, 'createdBy'>;

const MAX_URL = 2048;
const MAX_NAME = 200;
const MAX_FILTER = 100;

function fail(message: string): { ok: false; message: string } {
  return { ok: false, message };
}

function parseUrl(value: unknown, production: boolean): ParsedInput<string> {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_URL) {
    return fail(`url must be a string of 1 to ${MAX_URL} characters`);
  }
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return fail('url must be an absolute URL');
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && !production)) {
    return fail(production ? 'url must use https' : 'url must use https (or http outside production)');
  }
  if (u.username !== '' || u.password !== '') {
    return fail('url must not carry a user name or password');
  }
  return { ok: true, value };
}

function stringList(value: unknown, field: string): ParsedInput<string[]> {
  if (value === undefined) {
    return { ok: true, value: [] };
  }
  if (!Array.isArray(value) || value.length > MAX_FILTER || value.some((v) => typeof v !== 'string')) {
    return fail(`${field} must be an array of at most ${MAX_FILTER} strings`);
  }
  return { ok: true, value: [...new Set(value as string[])] };
}

export function parseDestinationBody(body: unknown, production: boolean): ParsedInput<DestinationBody> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail('body must be a JSON object with kind and url');
  }
  const r = body as Record<string, unknown>;
  const extra = unknownKeys(
    r,
    ['kind', 'name', 'url', 'secret', 'eventTypes', 'servicePrincipalIds'],
    'property',
  );
  if (extra) {
    return fail(extra);
  }
  if (typeof r.kind !== 'string' || !(NOTIFICATION_DESTINATION_KINDS as readonly string[]).includes(r.kind)) {
    return fail(`kind must be one of ${NOTIFICATION_DESTINATION_KINDS.join(', ')}`);
  }
  const kind = r.kind as NotificationDestinationKind;
  if (r.name !== undefined && (typeof r.name !== 'string' || r.name.length > MAX_NAME)) {
    return fail(`name must be a string of at most ${MAX_NAME} characters`);
  }
  const url = parseUrl(r.url, production);
  if (!url.ok) {
    return url;
  }
  let secret: string | null = null;
  if (kind === 'webhook') {
    if (typeof r.secret !== 'string' || !isWebhookSecret(r.secret)) {
      return fail(
        'secret is required for a webhook: a Standard Webhooks secret, whsec_ and the base64 of 24 to 64 bytes',
      );
    }
    secret = r.secret;
  } else if (r.secret !== undefined) {
    return fail(`secret applies only to kind webhook (a ${kind} URL is its own credential)`);
  }
  const eventTypes = stringList(r.eventTypes, 'eventTypes');
  if (!eventTypes.ok) {
    return eventTypes;
  }
  const badType = eventTypes.value.find((t) => !isNotificationEventType(t));
  if (badType !== undefined) {
    return fail(
      `eventTypes: unknown event type ${JSON.stringify(badType)}; one of ${NOTIFICATION_EVENT_TYPES.join(', ')}`,
    );
  }
  const sps = stringList(r.servicePrincipalIds, 'servicePrincipalIds');
  if (!sps.ok) {
    return sps;
  }
  if (sps.value.some((v) => !GUID_PATTERN.test(v))) {
    return fail('servicePrincipalIds must be GUIDs');
  }
  return {
    ok: true,
    value: {
      kind,
      name: typeof r.name === 'string' ? r.name : null,
      url: url.value,
      secret,
      eventTypes: eventTypes.value,
      servicePrincipalIds: sps.value.map((v) => v.toLowerCase()),
    },
  };
}

export function parseId(value: string, field: string): ParsedInput<string> {
  return GUID_PATTERN.test(value)
    ? { ok: true, value: value.toLowerCase() }
    : fail(`${field} must be a UUID`);
}

export const DEFAULT_DELIVERIES_LIMIT = 50;
export const MAX_DELIVERIES_LIMIT = 500;

export interface DeliveriesQuery {
  state?: NotificationDeliveryState;
  destinationId?: string;
  eventType?: string;
  before: KeysetPosition | null;
  limit: number;
}

export function encodeCursor(c: KeysetPosition): string {
  return Buffer.from(`${c.at.toISOString()}|${c.id}`, 'utf8').toString('base64url');
}

function decodeCursor(value: string): KeysetPosition | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(value)) {
    return null;
  }
  const [at, id, ...rest] = Buffer.from(value, 'base64url').toString('utf8').split('|');
  if (at === undefined || id === undefined || rest.length > 0 || !GUID_PATTERN.test(id)) {
    return null;
  }
  const d = new Date(at);
  return Number.isNaN(d.getTime()) || d.toISOString() !== at ? null : { at: d, id };
}

export function parseDeliveriesQuery(query: Record<string, unknown>): ParsedInput<DeliveriesQuery> {
  const extra = unknownKeys(
    query,
    ['state', 'destinationId', 'eventType', 'limit', 'cursor'],
    'query parameter',
  );
  if (extra) {
    return fail(extra);
  }
  for (const [k, v] of Object.entries(query)) {
    if (typeof v !== 'string') {
      return fail(`${k} must be given once, as a single value`);
    }
  }
  const q = query as Record<string, string | undefined>;
  const out: DeliveriesQuery = { before: null, limit: DEFAULT_DELIVERIES_LIMIT };
  if (q.state !== undefined) {
    if (!(NOTIFICATION_DELIVERY_STATES as readonly string[]).includes(q.state)) {
      return fail(`state must be one of ${NOTIFICATION_DELIVERY_STATES.join(', ')}`);
    }
    out.state = q.state as NotificationDeliveryState;
  }
  if (q.destinationId !== undefined) {
    const id = parseId(q.destinationId, 'destinationId');
    if (!id.ok) {
      return id;
    }
    out.destinationId = id.value;
  }
  if (q.eventType !== undefined) {
    if (!isNotificationEventType(q.eventType)) {
      return fail(`eventType must be one of ${NOTIFICATION_EVENT_TYPES.join(', ')}`);
    }
    out.eventType = q.eventType;
  }
  if (q.limit !== undefined) {
    if (!/^\d{1,4}$/.test(q.limit) || Number(q.limit) < 1 || Number(q.limit) > MAX_DELIVERIES_LIMIT) {
      return fail(`limit must be an integer from 1 to ${MAX_DELIVERIES_LIMIT}`);
    }
    out.limit = Number(q.limit);
  }
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor);
    if (c === null) {
      return fail('cursor is not a cursor this API returned');
    }
    out.before = c;
  }
  return { ok: true, value: out };
}
