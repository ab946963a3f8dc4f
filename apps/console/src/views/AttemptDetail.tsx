import { Link as RouterLink, useParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { useApi } from '../api/context';
import { attemptsApi } from '../api/attempts';
import { jobPath, when } from '../format';
import { PageTitle, useLayout } from '../components/layout';
import { QueryState } from '../components/states';
import { OutcomeBadge } from '../components/badges';

/** One attempt, as the audit stores it. */
export function AttemptDetail() {
  const { attemptId = '' } = useParams();
  const api = useApi();
  const l = useLayout();
  const q = useQuery({ queryKey: ['attempt', attemptId], queryFn: () => attemptsApi.get(api, attemptId) });
  return (
    <>
      <PageTitle>Attempt</PageTitle>
      <QueryState query={q}>
        {(a) => (
          <dl style={{ display: 'grid', gridTemplateColumns: 'max-content 1fr', gap: '4px 16px' }}>
            <dt>Outcome</dt>
            <dd>
              <OutcomeBadge outcome={a.outcome} />
            </dd>
            <dt>Message</dt>
            <dd>{a.message}</dd>
            <dt>Job</dt>
            <dd>
              <RouterLink to={jobPath(a.servicePrincipalId, a.jobId)}>{a.jobId}</RouterLink>
            </dd>
            <dt>When</dt>
            <dd>
              {when(a.createdAt)} → {when(a.finishedAt)} ({a.durationMs ?? '?'} ms)
            </dd>
            <dt>Who</dt>
            <dd>
              {a.actor.name ?? '—'} ({a.actor.type}, {a.actor.id}), trigger {a.trigger}
            </dd>
            <dt>Operation</dt>
            <dd>
              {a.operation ?? 'start'}
              {a.resetScope && a.resetScope.length > 0 ? ` (${a.resetScope.join(', ')})` : ''}
            </dd>
            {a.approvalId && (
              <>
                <dt>Approval</dt>
                <dd>
                  <RouterLink to={`/approvals?approval=${encodeURIComponent(a.approvalId)}`}>
                    {a.trigger === 'approval' ? 'ran under this approval' : 'waits for this approval'}
                  </RouterLink>
                  {a.requestedBy ? `, asked for by ${a.requestedBy.name ?? a.requestedBy.id}` : ''}
                </dd>
              </>
            )}
            {a.holdId && (
              <>
                <dt>Hold</dt>
                <dd className={l.mono}>{a.holdId}</dd>
              </>
            )}
            <dt>Reason</dt>
            <dd>{a.reason ?? '—'}</dd>
            <dt>Observed status</dt>
            <dd>
              {a.observedStatus ?? '—'} {a.quarantineReason ? `(${a.quarantineReason})` : ''}
            </dd>
            <dt>Graph request ids</dt>
            <dd className={l.mono}>{a.graphRequestIds.join(', ') || '—'}</dd>
            <dt>Attempt id</dt>
            <dd className={l.mono}>{a.attemptId}</dd>
          </dl>
        )}
      </QueryState>
    </>
  );
}
