import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button, Field, Input } from '@fluentui/react-components';
import { useApi } from '../api/context';
import { useLiveQuery } from '../hooks';
import { grantsApi } from '../api/grants';
import { when } from '../format';
import { PageTitle, Section, SubmitForm, useLayout } from '../components/layout';
import { ErrorBox } from '../components/states';
import { QueryTable } from '../components/DataTable';
import { ConfirmButton } from '../components/ConfirmButton';

/** Admin: narrow callers to named service principals, and who changed what. */
export function Grants() {
  const api = useApi();
  const qc = useQueryClient();
  const l = useLayout();
  const [principalId, setPrincipalId] = useState('');
  const [servicePrincipalId, setSp] = useState('');
  const grants = useLiveQuery(['grants'], grantsApi.list);
  const events = useLiveQuery(['grant-events'], grantsApi.events);
  const create = useMutation({
    mutationFn: () =>
      grantsApi.create(api, {
        principalId: principalId.trim(),
        servicePrincipalId: servicePrincipalId.trim(),
      }),
    onSuccess: () => {
      setPrincipalId('');
      setSp('');
    },
    onSettled: () => void qc.invalidateQueries(),
  });
  const remove = useMutation({
    mutationFn: (grantId: string) => grantsApi.remove(api, grantId),
    onSettled: () => void qc.invalidateQueries(),
  });
  return (
    <>
      <PageTitle>Grants</PageTitle>
      <Section title="Add a grant">
        <SubmitForm className={l.row} onSubmit={() => create.mutate()}>
          <Field label="Caller object id (oid)">
            <Input value={principalId} onChange={(_, d) => setPrincipalId(d.value)} style={{ width: 330 }} />
          </Field>
          <Field label="Service principal id">
            <Input value={servicePrincipalId} onChange={(_, d) => setSp(d.value)} style={{ width: 330 }} />
          </Field>
          <Button type="submit" appearance="primary" disabled={create.isPending}>
            Grant
          </Button>
        </SubmitForm>
        {create.error && <ErrorBox error={create.error} title="The grant was not added" />}
      </Section>
      <Section title="Grants">
        {remove.error && <ErrorBox error={remove.error} title="The grant was not removed" />}
        <QueryTable
          query={grants}
          emptyText="No grant: every caller with a role acts on every service principal."
          label="Grants"
          size="small"
          rows={grants.data ?? []}
          rowKey={(g) => g.grantId}
          columns={[
            { header: 'Caller', className: l.mono, cell: (g) => g.principalId },
            { header: 'Service principal', className: l.mono, cell: (g) => g.servicePrincipalId },
            { header: 'Created', cell: (g) => when(g.createdAt) },
            { header: 'By', className: l.mono, cell: (g) => g.createdBy },
            {
              header: 'Actions',
              cell: (g) => (
                <ConfirmButton
                  label={`Remove the grant of ${g.principalId}`}
                  question="Remove this grant?"
                  onConfirm={() => remove.mutate(g.grantId)}
                >
                  Remove
                </ConfirmButton>
              ),
            },
          ]}
        />
      </Section>
      <Section title="Changes">
        <QueryTable
          query={events}
          emptyText="No change yet."
          label="Grant changes"
          size="small"
          rows={events.data ?? []}
          rowKey={(e) => e.eventId}
          columns={[
            { header: 'When', cell: (e) => when(e.at) },
            { header: 'Change', cell: (e) => e.action },
            { header: 'By', cell: (e) => e.actor.name ?? e.actor.id },
            { header: 'Details', className: l.mono, cell: (e) => JSON.stringify(e.details) },
          ]}
        />
      </Section>
    </>
  );
}
