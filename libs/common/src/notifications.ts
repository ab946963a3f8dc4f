/** Notification event types (DESIGN section 2d): the CloudEvents `type` of each event, exactly. */
export const NOTIFICATION_EVENT_TYPES = [
  'job.needs_attention',
  'job.quarantined',
  'job.quarantine_reason_changed',
  'job.recovered',
  'job.auto_disable_approaching',
  'attempt.unknown',
  'approval.requested',
  'approval.decided',
  'hold.placed',
  'hold.released',
] as const;
export type NotificationEventType = (typeof NOTIFICATION_EVENT_TYPES)[number];

export const NOTIFICATION_DESTINATION_KINDS = ['webhook', 'teams', 'slack'] as const;
export type NotificationDestinationKind = (typeof NOTIFICATION_DESTINATION_KINDS)[number];

export const NOTIFICATION_DELIVERY_STATES = ['pending', 'delivered', 'dead'] as const;
export type NotificationDeliveryState = (typeof NOTIFICATION_DELIVERY_STATES)[number];

/** Days before `autoDisableAt` at which `job.auto_disable_approaching` is sent, once each per quarantine series. */
export const AUTO_DISABLE_NOTICE_DAYS = [7, 1] as const;

export function isNotificationEventType(value: unknown): value is NotificationEventType {
  return typeof value === 'string' && (NOTIFICATION_EVENT_TYPES as readonly string[]).includes(value);
}
