import type { ReactNode } from 'react';
import { Link as RouterLink, useParams, useSearchParams } from 'react-router';
import { Badge, Switch, Text, makeStyles, tokens } from '@fluentui/react-components';
import { adviceFor } from '@app/common/quarantine';
import { jobsApi, isGo } from '../api/jobs';
import { useCan } from '../auth/session';
import { useApprovals, useAttempts, useHolds, useLiveQuery, useWatches } from '../hooks';
import type { Approval, AttemptView, Hold } from '../api/types';
import { clockOf, when } from '../format';
import { Section, useLayout } from '../components/layout';
import { Empty, ErrorBox, QueryState } from '../components/states';
import {
  ApprovalStateBadge,
  HoldBadge,
  OutcomeBadge,
  StatusBadge,
  WatchStateBadge,
} from '../components/badges';
import { StartDialog } from '../components/StartDialog';
import { JobActions } from '../components/JobActions';

const useStyles = makeStyles({
  timeline: { listStyle: 'none', margin: 0, padding: 0 },
  item: {
    borderLeft: `3px solid ${tokens.colorNeutralStroke1}`,
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}`,
    marginLeft: tokens.spacingHorizontalS,
  },
  fail: { borderLeftColor: tokens.colorPaletteRedBorder2 },
  control: { borderLeftColor: tokens.colorPaletteMarigoldBorder2 },
  actions: { display: 'flex', gap: tokens.spacingHorizontalS, flexWrap: 'wrap', alignItems: 'center' },
  facts: { display: 'grid', gridTemplateColumns: 'max-content 1fr', gap: `4px ${tokens.spacingHorizontalL}` },
});

/** A refusal or failure: not a go, and not merely waiting for a second person. */
export function isFailure(a: AttemptView): boolean {
  return !isGo(a) && a.outcome !== 'awaiting_approval' && a.outcome !== 'pending';
}

interface Entry {
  key: string;
  at: string;
  failure: boolean;
  kind: 'attempt' | 'hold' | 'approval';
  node: ReactNode;
}

function by(p: { id: string; name: string | null } | null | undefined): string {
  return p ? (p.name ?? p.id) : 'someone';
}

/** One timeline of attempts, sweep decisions, holds and approvals, newest first. */
export function timelineOf(attempts: AttemptView[], holds: Hold[], approvals: Approval[]): Entry[] {
  const entries: Entry[] = [];
  for (const a of attempts) {
    entries.push({
      key: `a-${a.attemptId}`,
      at: a.createdAt,
      failure: isFailure(a),
      kind: 'attempt',
      node: (
        <>
          <Text weight="semibold">
            <RouterLink to={`/attempts/${a.attemptId}`}>{when(a.createdAt)}</RouterLink>
          </Text>{' '}
          <OutcomeBadge outcome={a.outcome} />{' '}
          <Badge appearance="outline">
            {a.trigger === 'recovery' ? 'sweep decision' : a.trigger === 'approval' ? 'approved' : 'API'}
          </Badge>{' '}
          {a.operation && a.operation !== 'start' && (
            <>
              <Badge appearance="outline" color="informative">
                {a.operation}
                {a.resetScope.length > 0 ? ` ${a.resetScope.join(', ')}` : ''}
              </Badge>{' '}
            </>
          )}
          <Text size={200}>
            by {a.actor.name ?? a.actor.id} ({a.actor.type})
            {a.requestedBy ? `, asked for by ${by(a.requestedBy)}` : ''}
          </Text>
          <Text block size={300}>
            {a.message}
          </Text>
          {a.reason && (
            <Text block size={200} italic>
              Reason: {a.reason}
            </Text>
          )}
          {a.outcome === 'awaiting_approval' && a.approvalId && (
            <Text block size={200}>
              <RouterLink to={`/approvals?approval=${encodeURIComponent(a.approvalId)}`}>
                The approval request
              </RouterLink>
            </Text>
          )}
        </>
      ),
    });
  }
  for (const h of holds) {
    const scope = h.jobId === null ? ' on every job of the service principal' : '';
    entries.push({
      key: `h-${h.holdId}`,
      at: h.placedAt,
      failure: false,
      kind: 'hold',
      node: (
        <>
          <Text weight="semibold">{when(h.placedAt)}</Text> <HoldBadge hold={h} />{' '}
          <Text size={200}>
            hold placed{scope} by {by(h.placedBy)}
            {h.until ? `, until ${when(h.until)}` : ''}
          </Text>
          <Text block size={300}>
            {h.reason}
          </Text>
        </>
      ),
    });
    if (h.releasedAt) {
      entries.push({
        key: `hr-${h.holdId}`,
        at: h.releasedAt,
        failure: false,
        kind: 'hold',
        node: (
          <>
            <Text weight="semibold">{when(h.releasedAt)}</Text>{' '}
            <Badge appearance="outline" color="success">
              hold released
            </Badge>{' '}
            <Text size={200}>
              by {by(h.releasedBy)} (placed {when(h.placedAt)}: {h.reason})
            </Text>
          </>
        ),
      });
    }
  }
  for (const p of approvals) {
    entries.push({
      key: `p-${p.approvalId}`,
      at: p.decidedAt ?? p.requestedAt,
      failure: p.state === 'rejected' || p.state === 'expired',
      kind: 'approval',
      node: (
        <>
          <Text weight="semibold">{when(p.decidedAt ?? p.requestedAt)}</Text>{' '}
          <ApprovalStateBadge state={p.state} />{' '}
          <Text size={200}>
            approval of a {p.operation}
            {p.resetScope.length > 0 ? ` (${p.resetScope.join(', ')})` : ''} asked for by {by(p.requestedBy)}{' '}
            {when(p.requestedAt)}
            {p.decidedBy ? `; ${p.state} by ${by(p.decidedBy)}` : ''}
          </Text>
          <Text block size={300}>
            {p.why}
            {p.decisionReason ? ` Decision: ${p.decisionReason}` : ''}{' '}
            <RouterLink to={`/approvals?approval=${encodeURIComponent(p.approvalId)}`}>
              In the inbox
            </RouterLink>
            {p.attemptId && (
              <>
                {' · '}
                <RouterLink to={`/attempts/${encodeURIComponent(p.attemptId)}`}>What ran</RouterLink>
              </>
            )}
          </Text>
        </>
      ),
    });
  }
  return entries.sort((x, y) => Date.parse(y.at) - Date.parse(x.at));
}

/** One job's story: live status, hold, quarantine clock and advice, actions, and one timeline of everything. */
export function JobDetail() {
  const { spId = '', jobId = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const failuresOnly = params.get('failures') === '1';
  const canStart = useCan('start');
  const s = useStyles();
  const l = useLayout();
  const job = useLiveQuery(['job', spId, jobId], (api) => jobsApi.get(api, spId, jobId));
  const attempts = useAttempts({ servicePrincipalId: spId, jobId }, 200);
  const watches = useWatches();
  const watch = watches.data?.find(
    (w) => w.servicePrincipalId.toLowerCase() === spId.toLowerCase() && w.jobId === jobId,
  );
  const holds = useHolds({ servicePrincipalId: spId, jobId, state: 'all' });
  const approvals = useApprovals();
  const mine = (approvals.data ?? []).filter(
    (p) => p.servicePrincipalId.toLowerCase() === spId.toLowerCase() && p.jobId === jobId,
  );
  const activeHold = (holds.data ?? []).find((h) => h.active) ?? job.data?.hold ?? null;
  const items = timelineOf(attempts.data?.items ?? [], holds.data ?? [], mine).filter(
    (e) => !failuresOnly || e.failure,
  );
  const sideError = holds.error ?? approvals.error;

  return (
    <>
      <Text as="h1" size={700} weight="semibold" block style={{ marginBottom: 4 }}>
        {jobId}
      </Text>
      <Text block className={l.mono} style={{ marginBottom: 16 }}>
        Service principal {spId}
      </Text>
      <Section
        title="Status"
        actions={
          canStart ? (
            <div className={s.actions} aria-label="Actions" role="group">
              <StartDialog spId={spId} jobId={jobId} />
              <JobActions spId={spId} jobId={jobId} hold={activeHold} />
            </div>
          ) : undefined
        }
      >
        <QueryState query={job}>
          {(j) => {
            const clock = clockOf(j);
            const advice = adviceFor(j.quarantine?.reason ?? null);
            return (
              <div className={s.facts}>
                <Text weight="semibold">Status</Text>
                <span>
                  <StatusBadge status={j.observedStatus} />{' '}
                  <Text size={200}>({j.rawStatusCode ?? 'no code'})</Text>
                </span>
                <Text weight="semibold">Hold</Text>
                <span>
                  {activeHold ? (
                    <>
                      <HoldBadge hold={activeHold} /> {activeHold.reason} (placed by{' '}
                      {activeHold.placedBy.name ?? activeHold.placedBy.id} {when(activeHold.placedAt)}
                      {activeHold.until ? `, until ${when(activeHold.until)}` : ', until released'})
                    </>
                  ) : (
                    'none: starts and restarts go through the guard as usual'
                  )}
                </span>
                {j.escrowPause === true && (
                  <>
                    <Text weight="semibold">Escrow pause</Text>
                    <Text>
                      Graph paused the job itself after pruning escrows: fix the failing objects; recovery
                      never starts it.
                    </Text>
                  </>
                )}
                <Text weight="semibold">Last execution</Text>
                <Text>
                  {j.lastExecution?.state ?? '—'} {when(j.lastExecution?.timeEnded)}
                </Text>
                {j.observedStatus === 'quarantine' && (
                  <>
                    <Text weight="semibold">Quarantine reason</Text>
                    <span>
                      {j.quarantine?.reason ?? 'Unknown'}{' '}
                      {advice.needsPerson && (
                        <Badge appearance="outline" color="danger">
                          needs a person
                        </Badge>
                      )}
                    </span>
                    <Text weight="semibold">Since</Text>
                    <Text>{when(clock.since)}</Text>
                    <Text weight="semibold">Entra retries next</Text>
                    <Text>{when(clock.nextEntraRetry)}</Text>
                    <Text weight="semibold">Auto-disable</Text>
                    <Text>
                      {when(clock.autoDisableAt)} ({clock.daysLeft ?? '?'} days left)
                    </Text>
                    <Text weight="semibold">What to do</Text>
                    <div>
                      <Text block>{advice.meaning}</Text>
                      <ol className={l.steps}>
                        {advice.steps.map((st) => (
                          <li key={st}>{st}</li>
                        ))}
                      </ol>
                    </div>
                  </>
                )}
                <Text weight="semibold">Recovery watch</Text>
                <span>
                  {watch ? (
                    <>
                      <WatchStateBadge state={watch.state} /> {watch.lastMessage ?? ''} (next try{' '}
                      {when(watch.nextTryAt)})
                    </>
                  ) : (
                    'not watched'
                  )}
                </span>
              </div>
            );
          }}
        </QueryState>
      </Section>
      <Section
        title="Timeline"
        actions={
          <Switch
            label="Failures only"
            checked={failuresOnly}
            onChange={(_, d) => {
              const next = new URLSearchParams(params);
              if (d.checked) {
                next.set('failures', '1');
              } else {
                next.delete('failures');
              }
              setParams(next, { replace: true });
            }}
          />
        }
      >
        {sideError && <ErrorBox error={sideError} title="Holds or approvals could not be read" />}
        {attempts.error ? (
          <ErrorBox error={attempts.error} />
        ) : attempts.isPending ? null : items.length === 0 ? (
          <Empty>{failuresOnly ? 'No failure for this job.' : 'Nothing has happened to this job yet.'}</Empty>
        ) : (
          <ol className={s.timeline} aria-label="Timeline">
            {items.map((e) => (
              <li
                key={e.key}
                className={`${s.item} ${e.failure ? s.fail : e.kind === 'attempt' ? '' : s.control}`}
              >
                {e.node}
              </li>
            ))}
          </ol>
        )}
        <Text block size={200} style={{ marginTop: 8 }}>
          <RouterLink
            to={`/audit?servicePrincipalId=${encodeURIComponent(spId)}&jobId=${encodeURIComponent(jobId)}`}
          >
            This job in the audit view
          </RouterLink>
        </Text>
      </Section>
    </>
  );
}
