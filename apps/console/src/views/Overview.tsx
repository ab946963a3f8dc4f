import { Link as RouterLink } from 'react-router';
import {
  Badge,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
} from '@fluentui/react-components';
import { adviceFor } from '@app/common/quarantine';
import { useApprovals, useAttempts, useHolds, useKnownJobs, useStats } from '../hooks';
import { clockOf, jobPath, when } from '../format';
import { Count, Section, useLayout } from '../components/layout';
import { Empty, ErrorBox, Loading, QueryState } from '../components/states';
import { HoldBadge, OutcomeBadge } from '../components/badges';
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
      <Text as="h1" size={700} weight="semibold" block style={{ marginBottom: 16 }}>
        Overview
      </Text>
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
        <QueryState
          query={watches}
          empty={() => attention.length === 0}
          emptyText="No watched job needs a person."
        >
          {() => (
            <Table aria-label="Needs attention">
              <TableHeader>
                <TableRow>
                  <TableHeaderCell>Job</TableHeaderCell>
                  <TableHeaderCell>Reason</TableHeaderCell>
                  <TableHeaderCell>Since</TableHeaderCell>
                  <TableHeaderCell style={{ width: '34%' }}>What to do</TableHeaderCell>
                  <TableHeaderCell>Before Entra disables it</TableHeaderCell>
                </TableRow>
              </TableHeader>
              <TableBody>
                {attention.map((w) => {
                  const job = byKey.get(`${w.servicePrincipalId.toLowerCase()}/${w.jobId}`);
                  return (
                    <TableRow key={w.watchId}>
                      <TableCell className={l.id}>
                        <RouterLink to={jobPath(w.servicePrincipalId, w.jobId)}>{w.jobId}</RouterLink>
                      </TableCell>
                      <TableCell className={l.id}>{w.lastQuarantineReason ?? '—'}</TableCell>
                      <TableCell>{when(job ? clockOf(job).since : w.lastSeenAt)}</TableCell>
                      <TableCell>
                        <Advice reason={w.lastQuarantineReason} />
                      </TableCell>
                      <TableCell>
                        <DaysLeft job={job} />
                      </TableCell>
                    </TableRow>
                  );
                })}
              </TableBody>
            </Table>
          )}
        </QueryState>
      </Section>

      <Section title="Quarantined">
        {pending && jobs.length === 0 ? (
          <Loading />
        ) : quarantined.length === 0 ? (
          <Empty>No listed job is in quarantine.</Empty>
        ) : (
          <Table aria-label="Quarantined jobs">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Job</TableHeaderCell>
                <TableHeaderCell>Reason</TableHeaderCell>
                <TableHeaderCell>Since</TableHeaderCell>
                <TableHeaderCell>Entra retries next</TableHeaderCell>
                <TableHeaderCell style={{ width: '34%' }}>What to do</TableHeaderCell>
                <TableHeaderCell>Before Entra disables it</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {quarantined.map((j) => {
                const clock = clockOf(j);
                const reason = j.quarantine?.reason ?? null;
                return (
                  <TableRow key={`${j.servicePrincipalId}/${j.id}`}>
                    <TableCell className={l.id}>
                      <RouterLink to={jobPath(j.servicePrincipalId, j.id)}>{j.id}</RouterLink>
                    </TableCell>
                    <TableCell className={l.id}>
                      {/* The badge wraps below a long reason instead of spilling over the cell. */}
                      <span style={{ display: 'flex', flexWrap: 'wrap', gap: 4, alignItems: 'center' }}>
                        {reason ?? 'Unknown'}
                        {adviceFor(reason).needsPerson && (
                          <Badge appearance="outline" color="danger">
                            needs a person
                          </Badge>
                        )}
                      </span>
                    </TableCell>
                    <TableCell>{when(clock.since)}</TableCell>
                    <TableCell>{when(clock.nextEntraRetry)}</TableCell>
                    <TableCell>
                      <Advice reason={reason} />
                    </TableCell>
                    <TableCell>
                      <DaysLeft job={j} />
                    </TableCell>
                  </TableRow>
                );
              })}
            </TableBody>
          </Table>
        )}
      </Section>

      <HeldSection holds={holds} />
      <PendingApprovalsSection approvals={approvals} pending={pendingApprovals} />

      <Section title="Recent unknown outcomes">
        <QueryState query={unknown} empty={(d) => d.items.length === 0} emptyText="No attempt ended unknown.">
          {(d) => (
            <Table aria-label="Recent unknown outcomes">
              <TableHeader>
                <TableRow>
                  <TableHeaderCell>When</TableHeaderCell>
                  <TableHeaderCell>Job</TableHeaderCell>
                  <TableHeaderCell>Outcome</TableHeaderCell>
                  <TableHeaderCell>Message</TableHeaderCell>
                </TableRow>
              </TableHeader>
              <TableBody>
                {d.items.map((a) => (
                  <TableRow key={a.attemptId}>
                    <TableCell>
                      <RouterLink to={`/attempts/${a.attemptId}`}>{when(a.createdAt)}</RouterLink>
                    </TableCell>
                    <TableCell className={l.id}>
                      <RouterLink to={jobPath(a.servicePrincipalId, a.jobId)}>{a.jobId}</RouterLink>
                    </TableCell>
                    <TableCell>
                      <OutcomeBadge outcome={a.outcome} />
                    </TableCell>
                    <TableCell>{a.message}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          )}
        </QueryState>
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
      <QueryState query={holds} empty={(d) => d.length === 0} emptyText="No job is on hold.">
        {(list) => (
          <Table aria-label="Held jobs">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Job</TableHeaderCell>
                <TableHeaderCell>Reason</TableHeaderCell>
                <TableHeaderCell>Placed</TableHeaderCell>
                <TableHeaderCell>Until</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {list.map((h) => (
                <TableRow key={h.holdId}>
                  <TableCell className={l.id}>
                    {h.jobId ? (
                      <RouterLink to={jobPath(h.servicePrincipalId, h.jobId)}>{h.jobId}</RouterLink>
                    ) : (
                      <>every job of {h.servicePrincipalId}</>
                    )}{' '}
                    <HoldBadge hold={h} />
                  </TableCell>
                  <TableCell>{h.reason}</TableCell>
                  <TableCell>
                    {when(h.placedAt)} by {h.placedBy.name ?? h.placedBy.id}
                  </TableCell>
                  <TableCell>{h.until ? when(h.until) : 'until released'}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
      </QueryState>
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
      <QueryState
        query={approvals}
        empty={() => pendingApprovals.length === 0}
        emptyText="No request waits for a second person."
      >
        {() => (
          <Table aria-label="Pending approvals">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Job</TableHeaderCell>
                <TableHeaderCell>Operation</TableHeaderCell>
                <TableHeaderCell>Asked for by</TableHeaderCell>
                <TableHeaderCell>Expires</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {pendingApprovals.map((a) => (
                <TableRow key={a.approvalId}>
                  <TableCell className={l.id}>
                    <RouterLink to={jobPath(a.servicePrincipalId, a.jobId)}>{a.jobId}</RouterLink>
                  </TableCell>
                  <TableCell>
                    <RouterLink to={`/approvals?approval=${encodeURIComponent(a.approvalId)}`}>
                      {a.operation}
                      {a.resetScope.length > 0 ? ` (${a.resetScope.join(', ')})` : ''}
                    </RouterLink>
                  </TableCell>
                  <TableCell>
                    {a.requestedBy.name ?? a.requestedBy.id}, {when(a.requestedAt)}
                  </TableCell>
                  <TableCell>{when(a.expiresAt)}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
      </QueryState>
    </Section>
  );
}
