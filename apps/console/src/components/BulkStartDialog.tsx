import { useRef, useState } from 'react';
import { Button, Field, Input, Text, Textarea } from '@fluentui/react-components';
import { useQueryClient } from '@tanstack/react-query';
import { useApi } from '../api/context';
import { errorMessage } from '../api/client';
import { isGo, jobsApi } from '../api/jobs';
import type { AttemptView } from '../api/types';
import { OutcomeBadge } from './badges';
import { DataTable } from './DataTable';
import { useMountedWhile } from './DialogLink';
import { DialogShell } from './DialogShell';

export interface JobRef {
  servicePrincipalId: string;
  id: string;
}

type Row = { job: JobRef; attempt: AttemptView | null; error: string | null };

/** The phrase a person types to confirm a bulk start of n jobs. */
export function confirmationPhrase(n: number): string {
  return `start ${n} ${n === 1 ? 'job' : 'jobs'}`;
}

async function each(jobs: JobRef[], fn: (j: JobRef) => Promise<AttemptView>): Promise<Row[]> {
  const rows: Row[] = [];
  // One at a time: the guard's per-job limits are per job, but a bulk action should not burst the API.
  for (const job of jobs) {
    try {
      rows.push({ job, attempt: await fn(job), error: null });
    } catch (error) {
      rows.push({ job, attempt: null, error: errorMessage(error) });
    }
  }
  return rows;
}

function Results(props: { rows: Row[]; caption: string }) {
  return (
    <DataTable
      label={props.caption}
      size="small"
      rows={props.rows}
      rowKey={(r) => `${r.job.servicePrincipalId}/${r.job.id}`}
      columns={[
        { header: 'Job', cell: (r) => r.job.id },
        {
          header: 'Outcome',
          cell: (r) => (r.attempt ? <OutcomeBadge outcome={r.attempt.outcome} /> : 'error'),
        },
        { header: 'Message', cell: (r) => r.attempt?.message ?? r.error },
      ]}
    />
  );
}

/** Start a filtered selection: preview what would start and what would be skipped, then a typed confirmation. */
export function BulkStartDialog(props: { jobs: JobRef[] }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const opener = useRef<HTMLButtonElement>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [preview, setPreview] = useState<Row[] | null>(null);
  const [done, setDone] = useState<Row[] | null>(null);
  const [typed, setTyped] = useState('');
  const mounted = useMountedWhile(open);

  const body = (dryRun: boolean) => ({ ...(reason.trim() ? { reason: reason.trim() } : {}), dryRun });
  const go = preview?.filter((r) => r.attempt !== null && isGo(r.attempt)) ?? [];
  const phrase = confirmationPhrase(go.length);

  const runPreview = async () => {
    setBusy(true);
    setPreview(
      await each(props.jobs, (j) =>
        jobsApi.start(api, j.servicePrincipalId, j.id, body(true)).then((r) => r.attempt),
      ),
    );
    setBusy(false);
    void queryClient.invalidateQueries();
  };
  const runStart = async () => {
    setBusy(true);
    setDone(
      await each(
        go.map((r) => r.job),
        (j) => jobsApi.start(api, j.servicePrincipalId, j.id, body(false)).then((r) => r.attempt),
      ),
    );
    setBusy(false);
    void queryClient.invalidateQueries();
  };

  return (
    <>
      <Button
        ref={opener}
        onClick={() => setOpen(true)}
        appearance="primary"
        disabled={props.jobs.length === 0}
      >
        Start selected ({props.jobs.length})
      </Button>
      {mounted && (
        <DialogShell
          title={`Bulk start of ${props.jobs.length} selected jobs`}
          open={open}
          onClose={() => {
            setOpen(false);
            opener.current?.focus();
            setPreview(null);
            setDone(null);
            setTyped('');
            setReason('');
          }}
          done={done !== null}
          surfaceStyle={{ maxWidth: 800 }}
          actions={
            <>
              {!preview && (
                <Button appearance="primary" disabled={busy} onClick={() => void runPreview()}>
                  {busy ? 'Previewing…' : 'Preview (dry run)'}
                </Button>
              )}
              {preview && !done && go.length > 0 && (
                <Button
                  appearance="primary"
                  disabled={busy || typed.trim() !== phrase}
                  onClick={() => void runStart()}
                >
                  {busy ? 'Starting…' : `Start ${go.length}`}
                </Button>
              )}
            </>
          }
        >
          {!preview && (
            <Field label="Reason (stored with every attempt)">
              <Textarea value={reason} maxLength={500} onChange={(_, d) => setReason(d.value)} />
            </Field>
          )}
          {preview && !done && (
            <>
              <Text as="p" weight="semibold">
                {go.length} would start, {preview.length - go.length} would be skipped or refused.
              </Text>
              <Results rows={preview} caption="Preview of the bulk start" />
              {go.length > 0 && (
                <Field label={`Type "${phrase}" to confirm`} style={{ marginTop: 12 }}>
                  <Input value={typed} onChange={(_, d) => setTyped(d.value)} />
                </Field>
              )}
            </>
          )}
          {done && (
            <>
              <Text as="p" weight="semibold">
                {done.filter((r) => r.attempt?.outcome === 'started').length} started of {done.length}.
              </Text>
              <Results rows={done} caption="Result of the bulk start" />
            </>
          )}
        </DialogShell>
      )}
    </>
  );
}
