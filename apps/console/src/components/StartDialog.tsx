import { useRef, useState } from 'react';
import {
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  DialogTrigger,
  Field,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Textarea,
} from '@fluentui/react-components';
import { useQueryClient } from '@tanstack/react-query';
import { useApi } from '../api/context';
import { errorMessage } from '../api/client';
import { isGo, jobsApi } from '../api/jobs';
import type { AttemptView } from '../api/types';
import { OutcomeBadge } from './badges';
import { DialogCloser, DialogLink, useMountedWhile } from './DialogLink';

type Step =
  | { kind: 'edit' }
  | { kind: 'busy' }
  | { kind: 'previewed'; attempt: AttemptView }
  | { kind: 'done'; attempt: AttemptView }
  | { kind: 'error'; message: string };

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

  const run = async (dryRun: boolean) => {
    setStep({ kind: 'busy' });
    try {
      const { attempt } = await jobsApi.start(api, props.spId, props.jobId, {
        ...(reason.trim() ? { reason: reason.trim() } : {}),
        dryRun,
      });
      setStep(dryRun ? { kind: 'previewed', attempt } : { kind: 'done', attempt });
    } catch (error) {
      setStep({ kind: 'error', message: errorMessage(error) });
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
        <DialogCloser
          value={() => {
            setOpen(false);
            setStep({ kind: 'edit' });
            setReason('');
          }}
        >
          <Dialog
            open={open}
            onOpenChange={(_, d) => {
              setOpen(d.open);
              if (!d.open) {
                opener.current?.focus();
                setStep({ kind: 'edit' });
                setReason('');
              }
            }}
          >
            <DialogSurface aria-describedby={undefined}>
              <DialogBody>
                <DialogTitle>Start {props.jobId}</DialogTitle>
                <DialogContent>
                  <Field label="Reason (stored with the attempt)" hint="At most 500 characters">
                    <Textarea
                      value={reason}
                      maxLength={500}
                      onChange={(_, d) => setReason(d.value)}
                      disabled={step.kind !== 'edit' && step.kind !== 'error'}
                    />
                  </Field>
                  <div style={{ marginTop: 12 }}>
                    {step.kind === 'previewed' && <AttemptResult attempt={step.attempt} preview />}
                    {step.kind === 'done' && <AttemptResult attempt={step.attempt} preview={false} />}
                    {step.kind === 'error' && (
                      <MessageBar intent="error" role="alert">
                        <MessageBarBody>
                          <MessageBarTitle>Request failed</MessageBarTitle>
                          {step.message}
                        </MessageBarBody>
                      </MessageBar>
                    )}
                  </div>
                </DialogContent>
                <DialogActions>
                  {(step.kind === 'edit' || step.kind === 'error' || step.kind === 'busy') && (
                    <Button
                      appearance="primary"
                      disabled={step.kind === 'busy'}
                      onClick={() => void run(true)}
                    >
                      Preview (dry run)
                    </Button>
                  )}
                  {step.kind === 'previewed' && isGo(step.attempt) && (
                    <Button appearance="primary" onClick={() => void run(false)}>
                      Confirm start
                    </Button>
                  )}
                  <DialogTrigger disableButtonEnhancement>
                    <Button appearance="secondary">{step.kind === 'done' ? 'Close' : 'Cancel'}</Button>
                  </DialogTrigger>
                </DialogActions>
              </DialogBody>
            </DialogSurface>
          </Dialog>
        </DialogCloser>
      )}
    </>
  );
}
