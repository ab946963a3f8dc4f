import { Link as RouterLink, useParams, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Badge, Switch, Text, makeStyles, tokens } from '@fluentui/react-components';
import { adviceFor } from '@app/common/quarantine';
import { useApi } from '../api/context';
import { jobsApi, isGo } from '../api/jobs';
import { useCan } from '../auth/session';
import { useAttempts, useWatches } from '../hooks';
import { useLive } from '../live';
import { clockOf, when } from '../format';
import { Section, useLayout } from '../components/layout';
import { Empty, ErrorBox, QueryState } from '../components/states';
import { OutcomeBadge, StatusBadge, WatchStateBadge } from '../components/badges';
import { StartDialog } from '../components/StartDialog';

const useStyles = makeStyles({
  timeline: { listStyle: 'none', margin: 0, padding: 0 },
  item: {
    borderLeft: `3px solid ${tokens.colorNeutralStroke1}`,
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}`,
    marginLeft: tokens.spacingHorizontalS,
  },
  fail: { borderLeftColor: tokens.colorPaletteRedBorder2 },
  facts: { display: 'grid', gridTemplateColumns: 'max-content 1fr', gap: `4px ${tokens.spacingHorizontalL}` },
});

/** One job's story: live status, quarantine clock and advice, and one timeline of attempts and sweep decisions. */
export function JobDetail() {
  const { spId = '', jobId = '' } = useParams();
  const api = useApi();
  const live = useLive();
  const [params, setParams] = useSearchParams();
  const failuresOnly = params.get('failures') === '1';
  const canStart = useCan('start');
  const s = useStyles();
  const l = useLayout();
  const job = useQuery({
    queryKey: ['job', spId, jobId],
    queryFn: () => jobsApi.get(api, spId, jobId),
    refetchInterval: live.refetchInterval,
  });
  const attempts = useAttempts({ servicePrincipalId: spId, jobId }, 200);
  const watches = useWatches();
  const watch = watches.data?.find(
    (w) => w.servicePrincipalId.toLowerCase() === spId.toLowerCase() && w.jobId === jobId,
  );
  const items = (attempts.data?.items ?? []).filter((a) => !failuresOnly || !isGo(a));

  return (
    <>
      <Text as="h1" size={700} weight="semibold" block style={{ marginBottom: 4 }}>
        {jobId}
      </Text>
      <Text block className={l.mono} style={{ marginBottom: 16 }}>
        Service principal {spId}
      </Text>
      <Section title="Status" actions={canStart ? <StartDialog spId={spId} jobId={jobId} /> : undefined}>
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
        {attempts.error ? (
          <ErrorBox error={attempts.error} />
        ) : attempts.isPending ? null : items.length === 0 ? (
          <Empty>{failuresOnly ? 'No failed attempt for this job.' : 'No attempt for this job yet.'}</Empty>
        ) : (
          <ol className={s.timeline} aria-label="Timeline">
            {items.map((a) => (
              <li key={a.attemptId} className={isGo(a) ? s.item : `${s.item} ${s.fail}`}>
                <Text weight="semibold">
                  <RouterLink to={`/attempts/${a.attemptId}`}>{when(a.createdAt)}</RouterLink>
                </Text>{' '}
                <OutcomeBadge outcome={a.outcome} />{' '}
                <Badge appearance="outline">{a.trigger === 'recovery' ? 'sweep decision' : 'API'}</Badge>{' '}
                <Text size={200}>
                  by {a.actor.name ?? a.actor.id} ({a.actor.type})
                </Text>
                <Text block size={300}>
                  {a.message}
                </Text>
                {a.reason && (
                  <Text block size={200} italic>
                    Reason: {a.reason}
                  </Text>
                )}
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
