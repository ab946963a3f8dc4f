import { useRef, useState } from 'react';
import {
  Button,
  Field,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Textarea,
} from '@fluentui/react-components';
import { useQueryClient } from '@tanstack/react-query';
import { useApi } from '../api/context';
import { isGo, jobsApi } from '../api/jobs';
import type { AttemptView } from '../api/types';
import { OutcomeBadge } from './badges';
import { DialogLink, useMountedWhile } from './DialogLink';
import { DialogShell } from './DialogShell';

type Step =
  | { kind: 'edit' }
  | { kind: 'busy' }
  | { kind: 'previewed'; attempt: AttemptView }
  | { kind: 'done'; attempt: AttemptView }
  | { kind: 'error'; error: unknown };

/** What the API said, with its outcome: a refusal shows the API's message as it is. */
export function AttemptResult(props: { attempt: AttemptView; preview: boolean }) {
  const { attempt } = props;
  const go = isGo(attempt);
  return (
    <MessageBar intent={go ? (props.preview ? 'info' : 'success') : 'error'} role={go ? 'status' : 'alert'}>
      <MessageBarBody>
        <MessageBarTitle>
          <OutcomeBadge outcome={attempt.outcome} />{' '}
          {props.preview
            ? go
              ? 'The start would go ahead'
              : 'The start would be refused'
            : go
              ? 'Started'
              : 'Refused'}
        </MessageBarTitle>
        {attempt.message} <DialogLink to={`/attempts/${attempt.attemptId}`}>Attempt record</DialogLink>
      </MessageBarBody>
    </MessageBar>
  );
}

/** Start one job: a dry-run preview first (recorded like any attempt), then an explicit confirmation. */
export function StartDialog(props: { spId: string; jobId: string }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const opener = useRef<HTMLButtonElement>(null);
  const [reason, setReason] = useState('');
  const [step, setStep] = useState<Step>({ kind: 'edit' });
  const mounted = useMountedWhile(open);
  const reset = () => {
    setStep({ kind: 'edit' });
    setReason('');
  };

  const run = async (dryRun: boolean) => {
    setStep({ kind: 'busy' });
    try {
      const { attempt } = await jobsApi.start(api, props.spId, props.jobId, {
        ...(reason.trim() ? { reason: reason.trim() } : {}),
        dryRun,
      });
      setStep(dryRun ? { kind: 'previewed', attempt } : { kind: 'done', attempt });
    } catch (error) {
      setStep({ kind: 'error', error });
    } finally {
      void queryClient.invalidateQueries();
    }
  };

  return (
    <>
      <Button
        ref={opener}
        onClick={() => setOpen(true)}
        size="small"
        appearance="primary"
        aria-label={`Start ${props.jobId}`}
      >
        Start
      </Button>
      {mounted && (
        <DialogShell
          title={`Start ${props.jobId}`}
          open={open}
          onClose={() => {
            setOpen(false);
            opener.current?.focus();
            reset();
          }}
          onLinkClose={() => {
            setOpen(false);
            reset();
          }}
          done={step.kind === 'done'}
          error={step.kind === 'error' ? step.error : null}
          actions={
            <>
              {(step.kind === 'edit' || step.kind === 'error' || step.kind === 'busy') && (
                <Button appearance="primary" disabled={step.kind === 'busy'} onClick={() => void run(true)}>
                  Preview (dry run)
                </Button>
              )}
              {step.kind === 'previewed' && isGo(step.attempt) && (
                <Button appearance="primary" onClick={() => void run(false)}>
                  Confirm start
                </Button>
              )}
            </>
          }
        >
          <Field label="Reason (stored with the attempt)" hint="At most 500 characters">
            <Textarea
              value={reason}
              maxLength={500}
              onChange={(_, d) => setReason(d.value)}
              disabled={step.kind !== 'edit' && step.kind !== 'error'}
            />
          </Field>
          {(step.kind === 'previewed' || step.kind === 'done') && (
            <div style={{ marginTop: 12 }}>
              <AttemptResult attempt={step.attempt} preview={step.kind === 'previewed'} />
            </div>
          )}
        </DialogShell>
      )}
    </>
  );
}
