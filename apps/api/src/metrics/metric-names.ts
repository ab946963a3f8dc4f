/** Every metric family the service exposes, in one place. */
export const ATTEMPTS = 'sjg_attempts_total';
export const GUARD_DURATION = 'sjg_guard_duration_seconds';
export const GRAPH_REQUESTS = 'sjg_graph_requests_total';
export const GRAPH_DURATION = 'sjg_graph_request_duration_seconds';
export const GRAPH_THROTTLED = 'sjg_graph_throttled_total';
export const GRAPH_TOKENS = 'sjg_graph_token_acquisitions_total';
export const RECOVERY_SWEEPS = 'sjg_recovery_sweeps_total';
export const RECOVERY_NEEDS_ATTENTION = 'sjg_recovery_jobs_needing_attention';
export const AUTH_FAILURES = 'sjg_auth_failures_total';
export const DB_POOL = 'sjg_db_pool_connections';
export const REFUSALS_UNRECORDED = 'sjg_refusals_unrecorded_total';
export const NOTIFY_DELIVERIES = 'sjg_notification_deliveries_total';
export const NOTIFY_LATENCY = 'sjg_notification_delivery_latency_seconds';
export const NOTIFY_QUEUE = 'sjg_notification_deliveries';

export type CounterName =
  | typeof ATTEMPTS
  | typeof GRAPH_REQUESTS
  | typeof GRAPH_THROTTLED
  | typeof GRAPH_TOKENS
  | typeof RECOVERY_SWEEPS
  | typeof AUTH_FAILURES
  | typeof REFUSALS_UNRECORDED
  | typeof NOTIFY_DELIVERIES;
export type HistogramName = typeof GUARD_DURATION | typeof GRAPH_DURATION | typeof NOTIFY_LATENCY;
export type GaugeName = typeof RECOVERY_NEEDS_ATTENTION | typeof DB_POOL | typeof NOTIFY_QUEUE;
