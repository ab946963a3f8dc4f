import { Badge, type BadgeProps } from '@fluentui/react-components';

type Color = NonNullable<BadgeProps['color']>;

/** A value as a tinted badge, in its colour (informative for a value the map does not know). */
function TintBadge(props: { colors: Record<string, Color>; value: string }) {
  return (
    <Badge appearance="tint" color={props.colors[props.value] ?? 'informative'}>
      {props.value}
    </Badge>
  );
}

const OUTCOME_COLOR: Record<string, Color> = {
  started: 'success',
  dry_run: 'informative',
  skipped: 'subtle',
  rate_limited: 'warning',
  not_found: 'warning',
  denied: 'danger',
  forbidden: 'danger',
  rejected: 'warning',
  upstream_error: 'danger',
  unknown: 'severe',
  pending: 'informative',
  paused: 'success',
  restarted: 'success',
  awaiting_approval: 'important',
  held: 'warning',
};

export function OutcomeBadge(props: { outcome: string }) {
  return <TintBadge colors={OUTCOME_COLOR} value={props.outcome} />;
}

const STATUS_COLOR: Record<string, Color> = {
  active: 'success',
  paused: 'warning',
  quarantine: 'danger',
  notRun: 'informative',
  notConfigured: 'subtle',
  unknown: 'severe',
};

export function StatusBadge(props: { status: string | null }) {
  return <TintBadge colors={STATUS_COLOR} value={props.status ?? 'unknown'} />;
}

const STATE_COLOR: Record<string, Color> = {
  ok: 'success',
  recovering: 'informative',
  backing_off: 'warning',
  needs_attention: 'danger',
  held: 'warning',
};

export function WatchStateBadge(props: { state: string }) {
  return <TintBadge colors={STATE_COLOR} value={props.state} />;
}

/** A hold on the job (or its whole service principal): starts and restarts are refused while it applies. */
export function HoldBadge(props: { hold: { jobId: string | null; reason: string; active?: boolean } }) {
  const released = props.hold.active === false;
  return (
    <Badge
      appearance={released ? 'outline' : 'filled'}
      color={released ? 'subtle' : 'warning'}
      title={props.hold.reason}
    >
      {released ? 'hold ended' : props.hold.jobId === null ? 'held (service principal)' : 'held'}
    </Badge>
  );
}

const APPROVAL_COLOR: Record<string, Color> = {
  pending: 'important',
  approved: 'success',
  rejected: 'danger',
  expired: 'subtle',
};

export function ApprovalStateBadge(props: { state: string }) {
  return <TintBadge colors={APPROVAL_COLOR} value={props.state} />;
}

const DELIVERY_COLOR: Record<string, Color> = {
  pending: 'informative',
  delivered: 'success',
  dead: 'danger',
};

export function DeliveryStateBadge(props: { state: string }) {
  return <TintBadge colors={DELIVERY_COLOR} value={props.state} />;
}
