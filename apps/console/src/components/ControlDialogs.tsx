import { type ReactNode, useState } from 'react';
import {
  Button,
  Checkbox,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Text,
  Textarea,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useQueryClient } from '@tanstack/react-query';
import { useApi } from '../api/context';
import { isGo } from '../api/jobs';
import { controlApi, holdsApi, RESTART_SCOPES, type HoldInput } from '../api/control';
import type { AttemptView, Hold } from '../api/types';
import { when } from '../format';
import { OutcomeBadge } from './badges';
import { DialogLink, useMountedWhile } from './DialogLink';
import { DialogShell } from './DialogShell';
import { ErrorBox } from './states';

const useStyles = makeStyles({
  stack: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  scope: { marginBottom: tokens.spacingVerticalXS },
  explains: { color: tokens.colorNeutralForeground2, paddingLeft: tokens.spacingHorizontalXXL },
  fieldset: { border: 'none', margin: 0, padding: 0, minWidth: 0 },
});

/** What the API answered to a guarded operation: done, waiting for a second person, or refused (its message). */
export function OperationResult(props: { attempt: AttemptView; done: string }) {
  const { attempt } = props;
  const waiting = attempt.outcome === 'awaiting_approval';
  const go = isGo(attempt);
  return (
    <MessageBar
      intent={go ? 'success' : waiting ? 'warning' : 'error'}
      role={go || waiting ? 'status' : 'alert'}
    >
      <MessageBarBody>
        <MessageBarTitle>
          <OutcomeBadge outcome={attempt.outcome} />{' '}
          {go ? props.done : waiting ? "Waiting for another Admin's approval" : 'Refused'}
        </MessageBarTitle>
        {attempt.message}{' '}
        {waiting && attempt.approvalId && (
          <>
            <DialogLink to={`/approvals?approval=${encodeURIComponent(attempt.approvalId)}`}>
              Open the approval request
            </DialogLink>
            {' · '}
          </>
        )}
        <DialogLink to={`/attempts/${encodeURIComponent(attempt.attemptId)}`}>Attempt record</DialogLink>
      </MessageBarBody>
    </MessageBar>
  );
}

type Step<T> =
  { kind: 'edit' } | { kind: 'busy' } | { kind: 'done'; value: T } | { kind: 'error'; error: unknown };

/** One guarded action in a dialog: a form, one submit, then the API's answer in place of the form. */
function ActionDialog<T>(props: {
  title: string;
  open: boolean;
  onClose: () => void;
  submitLabel: string;
  canSubmit: boolean;
  submit: () => Promise<T>;
  result: (value: T) => ReactNode;
  children: ReactNode;
}) {
  const queryClient = useQueryClient();
  const [step, setStep] = useState<Step<T>>({ kind: 'edit' });
  const run = async () => {
    setStep({ kind: 'busy' });
    try {
      setStep({ kind: 'done', value: await props.submit() });
    } catch (error) {
      setStep({ kind: 'error', error });
    } finally {
      void queryClient.invalidateQueries();
    }
  };
  const close = () => {
    setStep({ kind: 'edit' });
    props.onClose();
  };
  const mounted = useMountedWhile(props.open);
  if (!mounted) {
    return null;
  }
  return (
    <DialogShell
      title={props.title}
      open={props.open}
      onClose={close}
      done={step.kind === 'done'}
      error={step.kind === 'error' ? step.error : null}
      surfaceStyle={{ maxWidth: 720 }}
      actions={
        step.kind !== 'done' && (
          <Button
            appearance="primary"
            disabled={step.kind === 'busy' || !props.canSubmit}
            onClick={() => void run()}
          >
            {props.submitLabel}
          </Button>
        )
      }
    >
      {step.kind === 'done' ? (
        props.result(step.value)
      ) : (
        <fieldset
          disabled={step.kind === 'busy'}
          style={{ border: 'none', margin: 0, padding: 0, minWidth: 0 }}
        >
          {props.children}
        </fieldset>
      )}
    </DialogShell>
  );
}

/** A datetime-local value (the browser's local time) as ISO 8601 with an offset, or undefined when empty. */
export function untilFromLocal(value: string): string | undefined {
  if (!value) {
    return undefined;
  }
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function HoldFields(props: {
  reason: string;
  setReason: (v: string) => void;
  until: string;
  setUntil: (v: string) => void;
  reasonLabel?: string;
}) {
  return (
    <>
      <Field
        label={props.reasonLabel ?? 'Why the job must not be started (shown to everyone who tries)'}
        required
        hint="At most 500 characters, e.g. a change ticket"
      >
        <Textarea value={props.reason} maxLength={500} onChange={(_, d) => props.setReason(d.value)} />
      </Field>
      <Field label="Until (optional)" hint="Empty: until someone releases it">
        <Input type="datetime-local" value={props.until} onChange={(_, d) => props.setUntil(d.value)} />
      </Field>
    </>
  );
}

export interface JobTarget {
  spId: string;
  jobId: string;
}

/** Hold one job: every start and restart (API, Graph door, recovery, approvals) is refused while it applies. */
export function HoldDialog(props: JobTarget & { open: boolean; onClose: () => void }) {
  const api = useApi();
  const s = useStyles();
  const [reason, setReason] = useState('');
  const [until, setUntil] = useState('');
  return (
    <ActionDialog<Hold>
      title={`Hold ${props.jobId}`}
      open={props.open}
      onClose={() => {
        setReason('');
        setUntil('');
        props.onClose();
      }}
      submitLabel="Place hold"
      canSubmit={reason.trim().length > 0}
      submit={() => {
        const body: HoldInput & { servicePrincipalId: string; jobId: string } = {
          servicePrincipalId: props.spId,
          jobId: props.jobId,
          reason: reason.trim(),
        };
        const u = untilFromLocal(until);
        if (u) {
          body.until = u;
        }
        return holdsApi.place(api, body);
      }}
      result={(h) => (
        <MessageBar intent="success" role="status">
          <MessageBarBody>
            <MessageBarTitle>Hold placed</MessageBarTitle>
            Starts and restarts of {h.jobId ?? 'every job'} are refused{' '}
            {h.until ? `until ${when(h.until)}` : 'until released'}: {h.reason}
          </MessageBarBody>
        </MessageBar>
      )}
    >
      <div className={s.stack}>
        <Text>
          While the hold applies, every start and restart of this job is refused (outcome held), by anyone and
          by the recovery sweep. A pause is still allowed.
        </Text>
        <HoldFields reason={reason} setReason={setReason} until={until} setUntil={setUntil} />
      </div>
    </ActionDialog>
  );
}

/** The guarded pause, optionally placing a hold in the same step (so no start slips in after the pause). */
export function PauseDialog(props: JobTarget & { open: boolean; onClose: () => void }) {
  const api = useApi();
  const s = useStyles();
  const [reason, setReason] = useState('');
  const [withHold, setWithHold] = useState(false);
  const [holdReason, setHoldReason] = useState('');
  const [until, setUntil] = useState('');
  return (
    <ActionDialog<{ attempt: AttemptView }>
      title={`Pause ${props.jobId}`}
      open={props.open}
      onClose={() => {
        setReason('');
        setWithHold(false);
        setHoldReason('');
        setUntil('');
        props.onClose();
      }}
      submitLabel={withHold ? 'Pause and hold' : 'Pause'}
      canSubmit={!withHold || holdReason.trim().length > 0}
      submit={() => {
        const body: { reason?: string; hold?: HoldInput } = {};
        if (reason.trim()) {
          body.reason = reason.trim();
        }
        if (withHold) {
          const u = untilFromLocal(until);
          body.hold = { reason: holdReason.trim(), ...(u ? { until: u } : {}) };
        }
        return controlApi.pause(api, props.spId, props.jobId, body);
      }}
      result={(r) => <OperationResult attempt={r.attempt} done="Paused" />}
    >
      <div className={s.stack}>
        <Text>
          Graph pauses the job whatever its status; it keeps its watermark and resumes on the next start.
        </Text>
        <Field label="Reason (stored with the attempt)" hint="Optional, at most 500 characters">
          <Textarea value={reason} maxLength={500} onChange={(_, d) => setReason(d.value)} />
        </Field>
        <Checkbox
          label="Also hold the job, so nobody (and no recovery sweep) starts it until the hold is released"
          checked={withHold}
          onChange={(_, d) => setWithHold(d.checked === true)}
        />
        {withHold && (
          <HoldFields
            reason={holdReason}
            setReason={setHoldReason}
            until={until}
            setUntil={setUntil}
            reasonLabel="Why the job must stay paused"
          />
        )}
      </div>
    </ActionDialog>
  );
}

/** The guarded restart: a scope picker that says what each scope does and warns on a full re-sync. */
export function RestartDialog(props: JobTarget & { open: boolean; onClose: () => void }) {
  const api = useApi();
  const s = useStyles();
  const [scopes, setScopes] = useState<string[]>([]);
  const [reason, setReason] = useState('');
  const risky = RESTART_SCOPES.filter((r) => r.needsApproval && scopes.includes(r.scope));
  return (
    <ActionDialog<{ attempt: AttemptView }>
      title={`Restart ${props.jobId}`}
      open={props.open}
      onClose={() => {
        setScopes([]);
        setReason('');
        props.onClose();
      }}
      submitLabel={risky.length > 0 ? 'Request restart' : 'Restart'}
      canSubmit={scopes.length > 0 && reason.trim().length > 0}
      submit={() =>
        controlApi.restart(api, props.spId, props.jobId, {
          // In the order Graph documents them, whatever order they were ticked in.
          resetScope: RESTART_SCOPES.map((r) => r.scope).filter((x) => scopes.includes(x)),
          reason: reason.trim(),
        })
      }
      result={(r) => <OperationResult attempt={r.attempt} done="Restarted" />}
    >
      <div className={s.stack}>
        <fieldset className={s.fieldset}>
          <legend>
            <Text weight="semibold">What to reset (at least one)</Text>
          </legend>
          {RESTART_SCOPES.map((r) => {
            const id = `scope-${r.scope}`;
            return (
              <div key={r.scope} className={s.scope}>
                <Checkbox
                  id={id}
                  label={`${r.label}${r.needsApproval ? ' (needs approval)' : ''}`}
                  aria-describedby={`${id}-explains`}
                  checked={scopes.includes(r.scope)}
                  onChange={(_, d) =>
                    setScopes(d.checked === true ? [...scopes, r.scope] : scopes.filter((x) => x !== r.scope))
                  }
                />
                <Text id={`${id}-explains`} size={200} block className={s.explains}>
                  {r.explains}
                </Text>
              </div>
            );
          })}
        </fieldset>
        {risky.length > 0 && (
          <MessageBar intent="warning">
            <MessageBarBody>
              <MessageBarTitle>
                {risky.some((r) => r.scope !== 'ForceDeletion') ? 'A full re-sync' : 'Deletes go through'}
              </MessageBarTitle>
              {risky.map((r) => r.label).join(', ')} {risky.length === 1 ? 'needs' : 'need'} a second person:
              nothing is sent to Graph now. The request waits for another Admin to approve it in the approvals
              inbox (for an hour by default).
            </MessageBarBody>
          </MessageBar>
        )}
        <Field label="Reason (stored with the attempt)" required hint="At most 500 characters">
          <Textarea value={reason} maxLength={500} onChange={(_, d) => setReason(d.value)} />
        </Field>
      </div>
    </ActionDialog>
  );
}

/** Release a hold (an Admin, or the person who placed it). */
export function ReleaseHoldButton(props: { hold: Hold; label?: string; size?: 'small' | 'medium' }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const what = props.hold.jobId ?? `every job of ${props.hold.servicePrincipalId}`;
  return (
    <>
      <Button
        size={props.size ?? 'small'}
        disabled={busy}
        aria-label={`Release the hold on ${what}`}
        onClick={() => {
          setBusy(true);
          setError(null);
          holdsApi
            .release(api, props.hold.holdId)
            .catch(setError)
            .finally(() => {
              setBusy(false);
              void queryClient.invalidateQueries();
            });
        }}
      >
        {props.label ?? 'Release hold'}
      </Button>
      {error !== null && <ErrorBox error={error} title="The hold was not released" />}
    </>
  );
}
