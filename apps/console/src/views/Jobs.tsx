import { useState } from 'react';
import { Link as RouterLink, useNavigate, useSearchParams } from 'react-router';
import { Button, Checkbox, Field, Input, Select } from '@fluentui/react-components';
import { isJobId, isServicePrincipalId } from '@app/common/ids';
import { useCan } from '../auth/session';
import { useAttempts, useKnownJobs } from '../hooks';
import { clockOf, jobPath, shortId, when } from '../format';
import { Options, PageTitle, Section, SubmitForm, useLayout } from '../components/layout';
import { Empty, ErrorBox, Loading } from '../components/states';
import { HoldBadge, OutcomeBadge, StatusBadge } from '../components/badges';
import { JobActions } from '../components/JobActions';
import { StartDialog } from '../components/StartDialog';
import { BulkStartDialog } from '../components/BulkStartDialog';
import { DataTable } from '../components/DataTable';
import { JobLink } from '../components/columns';
import type { AttemptView, Job } from '../api/types';

const STATUSES = ['paused', 'quarantine', 'active', 'notRun', 'notConfigured', 'unknown'];
const key = (j: { servicePrincipalId: string; id: string }) =>
  `${j.servicePrincipalId.toLowerCase()}/${j.id}`;

function LastAttempt(props: { attempt: AttemptView | undefined }) {
  const a = props.attempt;
  if (!a) {
    return <>—</>;
  }
  return (
    <>
      <OutcomeBadge outcome={a.outcome} />{' '}
      <RouterLink to={`/attempts/${a.attemptId}`}>{when(a.createdAt)}</RouterLink>
    </>
  );
}

function Lookup() {
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const [sp, setSp] = useState('');
  const [job, setJob] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const s = useLayout();
  return (
    <SubmitForm
      className={s.row}
      onSubmit={() => {
        if (!isServicePrincipalId(sp.trim())) {
          setProblem('The service principal id must be a GUID.');
          return;
        }
        if (job.trim() && !isJobId(job.trim())) {
          setProblem('The job id may hold letters, digits, dots, dashes and underscores.');
          return;
        }
        setProblem(null);
        if (job.trim()) {
          void navigate(jobPath(sp.trim(), job.trim()));
        } else {
          const next = new URLSearchParams(params);
          next.append('sp', sp.trim().toLowerCase());
          setParams(next);
        }
      }}
    >
      <Field label="Service principal id" validationMessage={problem ?? undefined}>
        <Input value={sp} onChange={(_, d) => setSp(d.value)} style={{ width: 330 }} />
      </Field>
      <Field label="Job id (optional)">
        <Input value={job} onChange={(_, d) => setJob(d.value)} style={{ width: 330 }} />
      </Field>
      <Button type="submit">Look up</Button>
    </SubmitForm>
  );
}

/** Watched and looked-up service principals' jobs, with filters in the URL, single and bulk starts, and job control. */
export function Jobs() {
  const [params, setParams] = useSearchParams();
  const extra = params.getAll('sp').filter((id) => isServicePrincipalId(id));
  const status = params.get('status') ?? '';
  const text = params.get('q') ?? '';
  const heldOnly = params.get('held') === '1';
  const canStart = useCan('start');
  const { jobs, errors, pending, servicePrincipalIds } = useKnownJobs(extra);
  const recent = useAttempts({}, 200);
  const last = new Map<string, AttemptView>();
  for (const a of recent.data?.items ?? []) {
    if (!last.has(key({ servicePrincipalId: a.servicePrincipalId, id: a.jobId }))) {
      last.set(key({ servicePrincipalId: a.servicePrincipalId, id: a.jobId }), a);
    }
  }
  const shown = jobs.filter(
    (j) =>
      (!status || j.observedStatus === status) &&
      (!text || j.id.toLowerCase().includes(text.toLowerCase())) &&
      (!heldOnly || j.hold?.active === true),
  );
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const chosen = shown.filter((j) => selected.has(key(j)));
  const set = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) {
      next.set(name, value);
    } else {
      next.delete(name);
    }
    setParams(next, { replace: true });
  };
  const toggle = (j: Job, on: boolean) => {
    const next = new Set(selected);
    if (on) {
      next.add(key(j));
    } else {
      next.delete(key(j));
    }
    setSelected(next);
  };
  const allOn = shown.length > 0 && chosen.length === shown.length;
  const s = useLayout();

  return (
    <>
      <PageTitle>Jobs</PageTitle>
      <Section title="Look up by id">
        <Lookup />
      </Section>
      <Section
        title={`Jobs of ${servicePrincipalIds.length} service principal${servicePrincipalIds.length === 1 ? '' : 's'}`}
        actions={canStart ? <BulkStartDialog jobs={chosen} /> : undefined}
      >
        <div className={s.row} style={{ marginBottom: 12 }}>
          <Field label="Status">
            <Select value={status} onChange={(_, d) => set('status', d.value)}>
              <option value="">any</option>
              <Options values={STATUSES} />
            </Select>
          </Field>
          <Field label="Job id contains">
            <Input value={text} onChange={(_, d) => set('q', d.value)} />
          </Field>
          <Field label="Hold">
            <Select value={heldOnly ? '1' : ''} onChange={(_, d) => set('held', d.value)}>
              <option value="">any</option>
              <option value="1">held only</option>
            </Select>
          </Field>
        </div>
        {errors.map((e) => (
          <ErrorBox key={e.spId} title={`Jobs of ${e.spId}`} error={e.error} />
        ))}
        {pending && jobs.length === 0 ? (
          <Loading />
        ) : shown.length === 0 ? (
          <Empty>
            {servicePrincipalIds.length === 0
              ? 'No service principal is watched yet: look one up by id, or add a watch.'
              : 'No job matches the filters.'}
          </Empty>
        ) : (
          <DataTable
            label="Jobs"
            rows={shown}
            rowKey={key}
            columns={[
              canStart && {
                header: (
                  <Checkbox
                    aria-label="Select every job shown"
                    checked={allOn ? true : chosen.length > 0 ? 'mixed' : false}
                    onChange={(_, d) => setSelected(d.checked === true ? new Set(shown.map(key)) : new Set())}
                  />
                ),
                headerStyle: { width: 44 },
                cell: (j) => (
                  <Checkbox
                    aria-label={`Select ${j.id}`}
                    checked={selected.has(key(j))}
                    onChange={(_, d) => toggle(j, d.checked === true)}
                  />
                ),
              },
              {
                header: 'Job',
                className: s.id,
                cell: (j) => <JobLink servicePrincipalId={j.servicePrincipalId} jobId={j.id} />,
              },
              {
                header: 'Service principal',
                title: (j) => j.servicePrincipalId,
                cell: (j) => shortId(j.servicePrincipalId),
              },
              {
                header: 'Status',
                cell: (j) => (
                  <>
                    <StatusBadge status={j.observedStatus} /> {j.hold && <HoldBadge hold={j.hold} />}
                  </>
                ),
              },
              {
                header: 'Quarantine clock',
                cell: (j) =>
                  j.observedStatus === 'quarantine'
                    ? `${j.quarantine?.reason ?? 'Unknown'}; ${clockOf(j).daysLeft ?? '?'} days before auto-disable`
                    : '—',
              },
              { header: 'Last attempt', cell: (j) => <LastAttempt attempt={last.get(key(j))} /> },
              canStart && {
                header: 'Actions',
                cell: (j) => (
                  <div className={s.row} style={{ gap: 4, alignItems: 'center' }}>
                    <StartDialog spId={j.servicePrincipalId} jobId={j.id} />
                    <JobActions spId={j.servicePrincipalId} jobId={j.id} hold={j.hold} menu />
                  </div>
                ),
              },
            ]}
          />
        )}
      </Section>
    </>
  );
}
