import { useState } from 'react';
import { Link as RouterLink, useSearchParams } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button, Checkbox, Field, Input, Select, Text } from '@fluentui/react-components';
import {
  NOTIFICATION_DELIVERY_STATES,
  NOTIFICATION_DESTINATION_KINDS,
  NOTIFICATION_EVENT_TYPES,
} from '@app/common/notifications';
import { useApi } from '../api/context';
import { useLiveQuery } from '../hooks';
import { notificationsApi, type NewDestination } from '../api/notifications';
import type { Delivery } from '../api/types';
import { jobPath, when } from '../format';
import { Options, PageTitle, Section, SubmitForm, useLayout } from '../components/layout';
import { ErrorBox, QueryState } from '../components/states';
import { DeliveryStateBadge } from '../components/badges';
import { DataTable, QueryTable } from '../components/DataTable';
import { ConfirmButton } from '../components/ConfirmButton';

const KIND_HINT: Record<string, string> = {
  webhook: 'CloudEvents 1.0 JSON, signed per Standard Webhooks with the secret (whsec_…)',
  teams:
    'A Teams Workflows webhook ("Post to a channel when a webhook request is received"): an Adaptive Card',
  slack: 'A Slack incoming webhook',
};

function AddDestination() {
  const api = useApi();
  const qc = useQueryClient();
  const l = useLayout();
  const [kind, setKind] = useState<string>('webhook');
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [secret, setSecret] = useState('');
  const [events, setEvents] = useState<string[]>([]);
  const [sps, setSps] = useState('');
  const add = useMutation({
    mutationFn: () => {
      const body: NewDestination = { kind, url: url.trim() };
      if (name.trim()) {
        body.name = name.trim();
      }
      if (kind === 'webhook' && secret) {
        body.secret = secret;
      }
      if (events.length > 0) {
        body.eventTypes = events;
      }
      const ids = sps
        .split(/[\s,]+/)
        .map((x) => x.trim())
        .filter(Boolean);
      if (ids.length > 0) {
        body.servicePrincipalIds = ids;
      }
      return notificationsApi.create(api, body);
    },
    onSuccess: () => {
      setName('');
      setUrl('');
      setSecret('');
      setEvents([]);
      setSps('');
    },
    onSettled: () => void qc.invalidateQueries(),
  });
  return (
    <SubmitForm onSubmit={() => add.mutate()}>
      <div className={l.row}>
        <Field label="Kind" hint={KIND_HINT[kind]}>
          <Select value={kind} onChange={(_, d) => setKind(d.value)}>
            <Options values={NOTIFICATION_DESTINATION_KINDS} />
          </Select>
        </Field>
        <Field label="Name (optional)">
          <Input value={name} maxLength={200} onChange={(_, d) => setName(d.value)} />
        </Field>
        <Field label="URL" required hint="https (http only outside production); never shown again in full">
          <Input type="url" value={url} onChange={(_, d) => setUrl(d.value)} style={{ width: 360 }} />
        </Field>
        {kind === 'webhook' && (
          <Field label="Signing secret" required hint="whsec_…; write-only">
            <Input
              type="password"
              autoComplete="off"
              value={secret}
              onChange={(_, d) => setSecret(d.value)}
            />
          </Field>
        )}
        <Field label="Service principals (optional)" hint="GUIDs, comma-separated; empty: every one">
          <Input value={sps} onChange={(_, d) => setSps(d.value)} style={{ width: 330 }} />
        </Field>
      </div>
      <fieldset style={{ border: 'none', padding: 0, marginTop: 8 }}>
        <legend>
          <Text weight="semibold">Events (none ticked: every event)</Text>
        </legend>
        {NOTIFICATION_EVENT_TYPES.map((t) => (
          <Checkbox
            key={t}
            label={t}
            checked={events.includes(t)}
            onChange={(_, d) =>
              setEvents(d.checked === true ? [...events, t] : events.filter((x) => x !== t))
            }
          />
        ))}
      </fieldset>
      <Button type="submit" appearance="primary" disabled={add.isPending || !url.trim()}>
        Add destination
      </Button>
      {add.error && <ErrorBox error={add.error} title="The destination was not added" />}
    </SubmitForm>
  );
}

/** What was sent where, and whether it arrived; a delivered or dead one can be sent again. */
function DeliveriesTable(props: {
  items: Delivery[];
  nameOf: Map<string, string>;
  redeliver: { isPending: boolean; mutate: (deliveryId: string) => void };
}) {
  const l = useLayout();
  return (
    <DataTable
      label="Deliveries"
      size="small"
      rows={props.items}
      rowKey={(d) => d.deliveryId}
      columns={[
        {
          header: 'Event',
          cell: (d) => (
            <>
              {d.eventType}
              <Text block size={200}>
                {when(d.eventTime)}
              </Text>
            </>
          ),
        },
        {
          header: 'Job',
          className: l.id,
          cell: (d) =>
            d.servicePrincipalId && d.jobId ? (
              <RouterLink to={jobPath(d.servicePrincipalId, d.jobId)}>{d.jobId}</RouterLink>
            ) : (
              '—'
            ),
        },
        {
          header: 'Destination',
          className: l.id,
          cell: (d) => (
            <>
              {d.destinationKind}: {props.nameOf.get(d.destinationId) ?? d.destinationId}
            </>
          ),
        },
        {
          header: 'State',
          cell: (d) => (
            <>
              <DeliveryStateBadge state={d.state} />
              <Text block size={200}>
                {d.state === 'pending' ? `next ${when(d.nextAttemptAt)}` : when(d.deliveredAt ?? d.deadAt)}
              </Text>
            </>
          ),
        },
        { header: 'Tries', cell: (d) => d.attempts },
        {
          header: 'Last answer',
          cell: (d) => (
            <>
              {d.lastStatus ?? '—'} {d.lastError ?? ''}
            </>
          ),
        },
        {
          header: 'Actions',
          cell: (d) =>
            d.state !== 'pending' && (
              <Button
                size="small"
                disabled={props.redeliver.isPending}
                aria-label={`Send ${d.eventType} to ${d.destinationKind} again`}
                onClick={() => props.redeliver.mutate(d.deliveryId)}
              >
                Send again
              </Button>
            ),
        },
      ]}
    />
  );
}

/** Admin: where events go (destinations, secrets write-only) and what was delivered (redeliver the dead). */
export function Notifications() {
  const api = useApi();
  const qc = useQueryClient();
  const l = useLayout();
  const [params, setParams] = useSearchParams();
  const state = params.get('state') ?? '';
  const destinations = useLiveQuery(['destinations'], notificationsApi.destinations);
  const deliveries = useLiveQuery(['deliveries', state], (api) =>
    notificationsApi.deliveries(api, state ? { state } : {}),
  );
  const remove = useMutation({
    mutationFn: (id: string) => notificationsApi.remove(api, id),
    onSettled: () => void qc.invalidateQueries(),
  });
  const redeliver = useMutation({
    mutationFn: (id: string) => notificationsApi.redeliver(api, id),
    onSettled: () => void qc.invalidateQueries(),
  });
  const nameOf = new Map((destinations.data ?? []).map((d) => [d.destinationId, d.name ?? d.url]));
  return (
    <>
      <PageTitle>Notifications</PageTitle>
      <Section title="Add a destination">
        <AddDestination />
      </Section>
      <Section title="Destinations">
        {remove.error && <ErrorBox error={remove.error} title="The destination was not removed" />}
        <QueryTable
          query={destinations}
          emptyText="No destination: events are kept, not sent."
          label="Destinations"
          size="small"
          rows={destinations.data ?? []}
          rowKey={(d) => d.destinationId}
          columns={[
            {
              header: 'Kind',
              cell: (d) => (
                <>
                  {d.kind}
                  {d.hasSecret ? ' (signed)' : ''}
                </>
              ),
            },
            {
              header: 'Name and URL',
              className: l.id,
              cell: (d) => (
                <>
                  {d.name && (
                    <Text block weight="semibold">
                      {d.name}
                    </Text>
                  )}
                  <span className={l.mono}>{d.url}</span>
                </>
              ),
            },
            {
              header: 'Events',
              cell: (d) => (d.eventTypes.length ? d.eventTypes.join(', ') : 'every event'),
            },
            {
              header: 'Service principals',
              className: l.id,
              cell: (d) => (d.servicePrincipalIds.length ? d.servicePrincipalIds.join(', ') : 'every one'),
            },
            {
              header: 'Added',
              cell: (d) => (
                <>
                  {when(d.createdAt)}
                  <Text block size={200}>
                    {d.managed ? 'from NOTIFY_WEBHOOK_URL' : d.createdBy}
                  </Text>
                </>
              ),
            },
            {
              header: 'Actions',
              cell: (d) => (
                <ConfirmButton
                  label={`Remove destination ${d.name ?? d.url}`}
                  question={`Remove ${d.name ?? d.url} and its deliveries?`}
                  disabled={remove.isPending}
                  onConfirm={() => remove.mutate(d.destinationId)}
                >
                  Remove
                </ConfirmButton>
              ),
            },
          ]}
        />
      </Section>
      <Section
        title="Deliveries"
        actions={
          <Field label="State" orientation="horizontal">
            <Select
              value={state}
              onChange={(_, d) => {
                const next = new URLSearchParams(params);
                if (d.value) {
                  next.set('state', d.value);
                } else {
                  next.delete('state');
                }
                setParams(next, { replace: true });
              }}
            >
              <option value="">any</option>
              <Options values={NOTIFICATION_DELIVERY_STATES} />
            </Select>
          </Field>
        }
      >
        {redeliver.error && <ErrorBox error={redeliver.error} title="Not sent again" />}
        <QueryState query={deliveries} empty={(d) => d.items.length === 0} emptyText="No delivery yet.">
          {(page) => <DeliveriesTable items={page.items} nameOf={nameOf} redeliver={redeliver} />}
        </QueryState>
      </Section>
    </>
  );
}
