import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button, Checkbox, Field, Input } from '@fluentui/react-components';
import { useApi } from '../api/context';
import { recoveryApi } from '../api/recovery';
import { useCan } from '../auth/session';
import { useSweeps, useWatches } from '../hooks';
import { when } from '../format';
import { PageTitle, Section, SubmitForm, useLayout } from '../components/layout';
import { ErrorBox } from '../components/states';
import { QueryTable } from '../components/DataTable';
import { ConfirmButton } from '../components/ConfirmButton';
import { jobColumn } from '../components/columns';
import { WatchStateBadge } from '../components/badges';

function AddWatch() {
  const api = useApi();
  const qc = useQueryClient();
  const l = useLayout();
  const [sp, setSp] = useState('');
  const [job, setJob] = useState('');
  const [all, setAll] = useState(false);
  const add = useMutation({
    mutationFn: () =>
      recoveryApi.addWatch(
        api,
        all
          ? { servicePrincipalId: sp.trim(), allJobs: true }
          : { servicePrincipalId: sp.trim(), jobId: job.trim() },
      ),
    onSuccess: () => {
      setJob('');
      void qc.invalidateQueries();
    },
  });
  return (
    <SubmitForm onSubmit={() => add.mutate()}>
      <div className={l.row}>
        <Field label="Service principal id">
          <Input value={sp} onChange={(_, d) => setSp(d.value)} style={{ width: 330 }} />
        </Field>
        <Field label="Job id">
          <Input value={job} disabled={all} onChange={(_, d) => setJob(d.value)} style={{ width: 330 }} />
        </Field>
        <Checkbox
          label="Every job of the service principal"
          checked={all}
          onChange={(_, d) => setAll(d.checked === true)}
        />
        <Button type="submit" appearance="primary" disabled={add.isPending}>
          Watch
        </Button>
      </div>
      {add.error && <ErrorBox error={add.error} title="The watch was not added" />}
    </SubmitForm>
  );
}

/** Scheduled recovery: what is watched, in which state, and the sweep history. */
export function Watches() {
  const api = useApi();
  const qc = useQueryClient();
  const admin = useCan('admin');
  const l = useLayout();
  const watches = useWatches();
  const sweeps = useSweeps();
  const remove = useMutation({
    mutationFn: (watchId: string) => recoveryApi.removeWatch(api, watchId),
    onSettled: () => void qc.invalidateQueries(),
  });
  return (
    <>
      <PageTitle>Watches and sweeps</PageTitle>
      {admin && (
        <Section title="Add a watch">
          <AddWatch />
        </Section>
      )}
      <Section title="Watched jobs">
        {remove.error && <ErrorBox error={remove.error} title="The watch was not removed" />}
        <QueryTable
          query={watches}
          emptyText="No job is watched."
          label="Watched jobs"
          size="small"
          rows={watches.data ?? []}
          rowKey={(w) => w.watchId}
          columns={[
            jobColumn(l.id),
            { header: 'State', cell: (w) => <WatchStateBadge state={w.state} /> },
            {
              header: 'Last seen',
              cell: (w) => (
                <>
                  {w.lastSeenStatus ?? '—'} {w.lastQuarantineReason ? `(${w.lastQuarantineReason})` : ''}{' '}
                  {when(w.lastSeenAt)}
                </>
              ),
            },
            { header: 'Failed recoveries', cell: (w) => w.failedAttempts },
            { header: 'Next try', cell: (w) => when(w.nextTryAt) },
            { header: 'Last message', cell: (w) => w.lastMessage ?? '—' },
            admin && {
              header: 'Actions',
              cell: (w) => (
                <ConfirmButton
                  label={`Stop watching ${w.jobId}`}
                  question={`Stop watching ${w.jobId}?`}
                  disabled={remove.isPending}
                  onConfirm={() => remove.mutate(w.watchId)}
                >
                  Stop watching
                </ConfirmButton>
              ),
            },
          ]}
        />
      </Section>
      <Section title="Sweeps">
        <QueryTable
          query={sweeps}
          emptyText="No sweep has run yet."
          label="Sweeps"
          size="small"
          rows={sweeps.data ?? []}
          rowKey={(sw) => sw.sweepId}
          columns={[
            { header: 'Started', cell: (sw) => when(sw.startedAt) },
            { header: 'Leader', cell: (sw) => sw.leader },
            { header: 'Jobs read', cell: (sw) => sw.jobsRead },
            { header: 'Started', cell: (sw) => sw.started },
            { header: 'Skipped', cell: (sw) => sw.skipped },
            { header: 'Left for a person', cell: (sw) => sw.needsAttention },
            { header: 'Errors', cell: (sw) => sw.errors },
            { header: 'Message', cell: (sw) => sw.message ?? '—' },
          ]}
        />
      </Section>
    </>
  );
}
