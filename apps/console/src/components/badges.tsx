import { Badge, type BadgeProps } from '@fluentui/react-components';

type Color = NonNullable<BadgeProps['color']>;

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
};

export function OutcomeBadge(props: { outcome: string }) {
  return (
    <Badge appearance="tint" color={OUTCOME_COLOR[props.outcome] ?? 'informative'}>
      {props.outcome}
    </Badge>
  );
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
  const s = props.status ?? 'unknown';
  return (
    <Badge appearance="tint" color={STATUS_COLOR[s] ?? 'informative'}>
      {s}
    </Badge>
  );
}

const STATE_COLOR: Record<string, Color> = {
  ok: 'success',
  recovering: 'informative',
  backing_off: 'warning',
  needs_attention: 'danger',
};

export function WatchStateBadge(props: { state: string }) {
  return (
    <Badge appearance="tint" color={STATE_COLOR[props.state] ?? 'informative'}>
      {props.state}
    </Badge>
  );
}
