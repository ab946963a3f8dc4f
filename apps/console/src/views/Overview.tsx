import { Link as RouterLink } from 'react-router';
import { Badge, Text } from '@fluentui/react-components';
import { adviceFor } from '@app/common/quarantine';
import { useApprovals, useAttempts, useHolds, useKnownJobs, useStats } from '../hooks';
import { clockOf, jobPath, when } from '../format';
import { Count, PageTitle, Section, useLayout } from '../components/layout';
import { Empty, ErrorBox, Loading } from '../components/states';
import { HoldBadge } from '../components/badges';
import { DataTable, QueryTable } from '../components/DataTable';
import { attemptTimeColumn, JobLink, jobColumn, outcomeColumn } from '../components/columns';
import type { Job } from '../api/types';

const DAY_MS = 24 * 3600 * 1000;

function Advice(props: { reason: string | null }) {
  const s = useLayout();
  const a = adviceFor(props.reason);
  return (
    <>
      <Text size={200} block>
        {a.meaning}
      </Text>
      <ol className={s.steps}>
        {a.steps.map((step) => (
          <li key={step}>
            <Text size={200}>{step}</Text>
          </li>
        ))}
      </ol>
    </>
  );
}

/** The reason, with a badge (wrapping below a long reason instead of spilling over the cell) when it needs a person. */
function QuarantineReason(props: { reason: string | null }) {
  return (
    <span style={{ display: 'flex', flexWrap: 'wrap', gap: 4, alignItems: 'center' }}>
      {props.reason ?? 'Unknown'}
      {adviceFor(props.reason).needsPerson && (
        <Badge appearance="outline" color="danger">
          needs a person
        </Badge>
      )}
    </span>
  );
}

function DaysLeft(props: { job: Job | undefined }) {
  const days = props.job ? clockOf(props.job).daysLeft : null;
  if (days === null) {
    return <>—</>;
  }
  return (
    <Badge appearance="tint" color={days <= 7 ? 'danger' : days <= 14 ? 'warning' : 'informative'}>
      {days} days
    </Badge>
  );
}

/** The needs-attention queue first, then quarantined, held, pending approvals, recent unknown outcomes and counts. */
export function Overview() {
  const l = useLayout();
  const { jobs, errors, pending, watches } = useKnownJobs();
  const since = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - DAY_MS).toISOString();
  const stats = useStats({ from: since });
  const unknown = useAttempts({ outcome: ['unknown'] }, 10);
  const byKey = new Map(jobs.map((j) => [`${j.servicePrincipalId.toLowerCase()}/${j.id}`, j]));
  const attention = (watches.data ?? []).filter((w) => w.state === 'needs_attention');
  const quarantined = jobs.filter((j) => j.observedStatus === 'quarantine');
  const holds = useHolds();
  const approvals = useApprovals();
  const pendingApprovals = (approvals.data ?? []).filter((a) => a.state === 'pending');

  return (
    <>
      <PageTitle>Overview</PageTitle>
      <div className={l.cards}>
        <Count label="Need a person" value={attention.length} />
        <Count label="Quarantined" value={quarantined.length} />
        <Count label="Held" value={holds.data?.length ?? '…'} />
        <Count label="Pending approvals" value={approvals.data ? pendingApprovals.length : '…'} />
        <Count label="Paused" value={jobs.filter((j) => j.observedStatus === 'paused').length} />
        <Count label="Jobs listed" value={jobs.length} />
        <Count label="Attempts, last 24 h" value={stats.data?.total ?? '…'} />
        <Count
          label="Unknown outcomes, last 24 h"
          value={stats.data?.byOutcome.unknown ?? (stats.data ? 0 : '…')}
        />
      </div>
      {errors.map((e) => (
        <ErrorBox key={e.spId} title={`Jobs of ${e.spId}`} error={e.error} />
      ))}

      <Section title="Needs attention">
        <QueryTable
          query={watches}
          emptyText="No watched job needs a person."
          label="Needs attention"
          rows={attention.map((w) => ({
            ...w,
            job: byKey.get(`${w.servicePrincipalId.toLowerCase()}/${w.jobId}`),
          }))}
          rowKey={(w) => w.watchId}
          columns={[
            jobColumn(l.id),
            { header: 'Reason', className: l.id, cell: (w) => w.lastQuarantineReason ?? '—' },
            { header: 'Since', cell: (w) => when(w.job ? clockOf(w.job).since : w.lastSeenAt) },
            {
              header: 'What to do',
              headerStyle: { width: '34%' },
              cell: (w) => <Advice reason={w.lastQuarantineReason} />,
            },
            { header: 'Before Entra disables it', cell: ({ job }) => <DaysLeft job={job} /> },
          ]}
        />
      </Section>

      <Section title="Quarantined">
        {pending && jobs.length === 0 ? (
          <Loading />
        ) : quarantined.length === 0 ? (
          <Empty>No listed job is in quarantine.</Empty>
        ) : (
          <DataTable
            label="Quarantined jobs"
            rows={quarantined}
            rowKey={(j) => `${j.servicePrincipalId}/${j.id}`}
            columns={[
              {
                header: 'Job',
                className: l.id,
                cell: (j) => <JobLink servicePrincipalId={j.servicePrincipalId} jobId={j.id} />,
              },
              {
                header: 'Reason',
                className: l.id,
                cell: (j) => <QuarantineReason reason={j.quarantine?.reason ?? null} />,
              },
              { header: 'Since', cell: (j) => when(clockOf(j).since) },
              { header: 'Entra retries next', cell: (j) => when(clockOf(j).nextEntraRetry) },
              {
                header: 'What to do',
                headerStyle: { width: '34%' },
                cell: (j) => <Advice reason={j.quarantine?.reason ?? null} />,
              },
              { header: 'Before Entra disables it', cell: (j) => <DaysLeft job={j} /> },
            ]}
          />
        )}
      </Section>

      <HeldSection holds={holds} />
      <PendingApprovalsSection approvals={approvals} pending={pendingApprovals} />

      <Section title="Recent unknown outcomes">
        <QueryTable
          query={unknown}
          emptyText="No attempt ended unknown."
          label="Recent unknown outcomes"
          rows={unknown.data?.items ?? []}
          rowKey={(a) => a.attemptId}
          columns={[
            attemptTimeColumn(),
            jobColumn(l.id),
            outcomeColumn(),
            { header: 'Message', cell: (a) => a.message },
          ]}
        />
      </Section>
    </>
  );
}

/** Jobs and service principals on hold, with who placed each hold and until when. */
function HeldSection(props: { holds: ReturnType<typeof useHolds> }) {
  const l = useLayout();
  const holds = props.holds;
  return (
    <Section title="Held">
      <QueryTable
        query={holds}
        emptyText="No job is on hold."
        label="Held jobs"
        rows={holds.data ?? []}
        rowKey={(h) => h.holdId}
        columns={[
          {
            header: 'Job',
            className: l.id,
            cell: (h) => (
              <>
                {h.jobId ? (
                  <RouterLink to={jobPath(h.servicePrincipalId, h.jobId)}>{h.jobId}</RouterLink>
                ) : (
                  <>every job of {h.servicePrincipalId}</>
                )}{' '}
                <HoldBadge hold={h} />
              </>
            ),
          },
          { header: 'Reason', cell: (h) => h.reason },
          {
            header: 'Placed',
            cell: (h) => (
              <>
                {when(h.placedAt)} by {h.placedBy.name ?? h.placedBy.id}
              </>
            ),
          },
          { header: 'Until', cell: (h) => (h.until ? when(h.until) : 'until released') },
        ]}
      />
    </Section>
  );
}

/** Requests that wait for a second person (the two-person rule), linked to the approvals inbox. */
function PendingApprovalsSection(props: {
  approvals: ReturnType<typeof useApprovals>;
  pending: NonNullable<ReturnType<typeof useApprovals>['data']>;
}) {
  const l = useLayout();
  const { approvals, pending: pendingApprovals } = props;
  return (
    <Section title="Waiting for approval">
      <QueryTable
        query={approvals}
        emptyText="No request waits for a second person."
        label="Pending approvals"
        rows={pendingApprovals}
        rowKey={(a) => a.approvalId}
        columns={[
          jobColumn(l.id),
          {
            header: 'Operation',
            cell: (a) => (
              <RouterLink to={`/approvals?approval=${encodeURIComponent(a.approvalId)}`}>
                {a.operation}
                {a.resetScope.length > 0 ? ` (${a.resetScope.join(', ')})` : ''}
              </RouterLink>
            ),
          },
          {
            header: 'Asked for by',
            cell: (a) => (
              <>
                {a.requestedBy.name ?? a.requestedBy.id}, {when(a.requestedAt)}
              </>
            ),
          },
          { header: 'Expires', cell: (a) => when(a.expiresAt) },
        ]}
      />
    </Section>
  );
}
