import { useState } from 'react';
import { Link as RouterLink } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import {
  Button,
  Checkbox,
  Field,
  Input,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
} from '@fluentui/react-components';
import { useApi } from '../api/context';
import { recoveryApi } from '../api/recovery';
import { useCan } from '../auth/session';
import { useSweeps, useWatches } from '../hooks';
import { jobPath, when } from '../format';
import { Section, useLayout } from '../components/layout';
import { ErrorBox, QueryState } from '../components/states';
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
    <form
      onSubmit={(e) => {
        e.preventDefault();
        add.mutate();
      }}
    >
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
    </form>
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
      <Text as="h1" size={700} weight="semibold" block style={{ marginBottom: 16 }}>
        Watches and sweeps
      </Text>
      {admin && (
        <Section title="Add a watch">
          <AddWatch />
        </Section>
      )}
      <Section title="Watched jobs">
        {remove.error && <ErrorBox error={remove.error} title="The watch was not removed" />}
        <QueryState query={watches} empty={(d) => d.length === 0} emptyText="No job is watched.">
          {(list) => (
            <Table aria-label="Watched jobs" size="small">
              <TableHeader>
                <TableRow>
                  <TableHeaderCell>Job</TableHeaderCell>
                  <TableHeaderCell>State</TableHeaderCell>
                  <TableHeaderCell>Last seen</TableHeaderCell>
                  <TableHeaderCell>Failed recoveries</TableHeaderCell>
                  <TableHeaderCell>Next try</TableHeaderCell>
                  <TableHeaderCell>Last message</TableHeaderCell>
                  {admin && <TableHeaderCell>Actions</TableHeaderCell>}
                </TableRow>
              </TableHeader>
              <TableBody>
                {list.map((w) => (
                  <TableRow key={w.watchId}>
                    <TableCell className={l.id}>
                      <RouterLink to={jobPath(w.servicePrincipalId, w.jobId)}>{w.jobId}</RouterLink>
                    </TableCell>
                    <TableCell>
                      <WatchStateBadge state={w.state} />
                    </TableCell>
                    <TableCell>
                      {w.lastSeenStatus ?? '—'} {w.lastQuarantineReason ? `(${w.lastQuarantineReason})` : ''}{' '}
                      {when(w.lastSeenAt)}
                    </TableCell>
                    <TableCell>{w.failedAttempts}</TableCell>
                    <TableCell>{when(w.nextTryAt)}</TableCell>
                    <TableCell>{w.lastMessage ?? '—'}</TableCell>
                    {admin && (
                      <TableCell>
                        <Button
                          size="small"
                          aria-label={`Stop watching ${w.jobId}`}
                          disabled={remove.isPending}
                          onClick={() => {
                            if (window.confirm(`Stop watching ${w.jobId}?`)) {
                              remove.mutate(w.watchId);
                            }
                          }}
                        >
                          Stop watching
                        </Button>
                      </TableCell>
                    )}
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          )}
        </QueryState>
      </Section>
      <Section title="Sweeps">
        <QueryState query={sweeps} empty={(d) => d.length === 0} emptyText="No sweep has run yet.">
          {(list) => (
            <Table aria-label="Sweeps" size="small">
              <TableHeader>
                <TableRow>
                  <TableHeaderCell>Started</TableHeaderCell>
                  <TableHeaderCell>Leader</TableHeaderCell>
                  <TableHeaderCell>Jobs read</TableHeaderCell>
                  <TableHeaderCell>Started</TableHeaderCell>
                  <TableHeaderCell>Skipped</TableHeaderCell>
                  <TableHeaderCell>Left for a person</TableHeaderCell>
                  <TableHeaderCell>Errors</TableHeaderCell>
                  <TableHeaderCell>Message</TableHeaderCell>
                </TableRow>
              </TableHeader>
              <TableBody>
                {list.map((sw) => (
                  <TableRow key={sw.sweepId}>
                    <TableCell>{when(sw.startedAt)}</TableCell>
                    <TableCell>{sw.leader}</TableCell>
                    <TableCell>{sw.jobsRead}</TableCell>
                    <TableCell>{sw.started}</TableCell>
                    <TableCell>{sw.skipped}</TableCell>
                    <TableCell>{sw.needsAttention}</TableCell>
                    <TableCell>{sw.errors}</TableCell>
                    <TableCell>{sw.message ?? '—'}</TableCell>
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
