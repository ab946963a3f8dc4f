import { useRef, useState } from 'react';
import { Link as RouterLink, useSearchParams } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import {
  Button,
  Field,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Text,
  Textarea,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useApi } from '../api/context';
import { approvalsApi } from '../api/control';
import type { Approval, AttemptView } from '../api/types';
import { useCan, useSession } from '../auth/session';
import { useApprovals } from '../hooks';
import { when } from '../format';
import { PageTitle, Section, useLayout } from '../components/layout';
import { QueryState } from '../components/states';
import { ApprovalStateBadge } from '../components/badges';
import { DataTable } from '../components/DataTable';
import { jobColumn } from '../components/columns';
import { OperationResult } from '../components/ControlDialogs';
import { DialogShell } from '../components/DialogShell';

const useStyles = makeStyles({
  linked: { backgroundColor: tokens.colorBrandBackground2 },
  actions: { display: 'flex', gap: tokens.spacingHorizontalS, flexWrap: 'wrap' },
  own: { color: tokens.colorNeutralForeground2 },
});

function what(a: Approval): string {
  return `${a.operation}${a.resetScope.length > 0 ? ` (${a.resetScope.join(', ')})` : ''}`;
}

type Decision = 'approve' | 'reject';

/** Approve (runs the operation now, through the guard) or reject/withdraw one request, with an optional note. */
function DecideDialog(props: {
  approval: Approval;
  decision: Decision;
  own: boolean;
  open: boolean;
  onClose: () => void;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const { approval: a, decision } = props;
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ attempt: AttemptView } | { approval: Approval } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const verb = decision === 'approve' ? 'Approve' : props.own ? 'Withdraw' : 'Reject';
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      setResult(
        decision === 'approve'
          ? await approvalsApi.approve(api, a.approvalId, note.trim() || undefined)
          : { approval: await approvalsApi.reject(api, a.approvalId, note.trim() || undefined) },
      );
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      void queryClient.invalidateQueries();
    }
  };
  return (
    <DialogShell
      title={
        <>
          {verb} the {what(a)} of {a.jobId}
        </>
      }
      open={props.open}
      onClose={props.onClose}
      done={result !== null}
      error={error}
      errorTitle={`Not ${decision === 'approve' ? 'approved' : 'rejected'}`}
      actions={
        result === null && (
          <Button appearance="primary" disabled={busy} onClick={() => void run()}>
            {verb}
          </Button>
        )
      }
    >
      {result === null ? (
        <>
          <Text block>{a.why}.</Text>
          <Text block>
            Asked for by {a.requestedBy.name ?? a.requestedBy.id} {when(a.requestedAt)}
            {a.reason ? `: ${a.reason}` : ''}.
          </Text>
          {decision === 'approve' && (
            <Text block weight="semibold" style={{ marginTop: 8 }}>
              Approving runs the {a.operation} now, through the guard, with you as the actor.
            </Text>
          )}
          <Field label="Note (stored with the decision)" hint="Optional, at most 500 characters">
            <Textarea value={note} maxLength={500} disabled={busy} onChange={(_, d) => setNote(d.value)} />
          </Field>
        </>
      ) : 'attempt' in result ? (
        <OperationResult
          attempt={result.attempt}
          done={a.operation === 'restart' ? 'Approved and restarted' : 'Approved and started'}
        />
      ) : (
        <MessageBar intent="success" role="status">
          <MessageBarBody>
            <MessageBarTitle>{props.own ? 'Withdrawn' : 'Rejected'}</MessageBarTitle>
            Nothing was sent to Graph.
          </MessageBarBody>
        </MessageBar>
      )}
    </DialogShell>
  );
}

interface Open {
  approval: Approval;
  decision: Decision;
  own: boolean;
  opener: HTMLButtonElement;
}

function Requests(props: {
  items: Approval[];
  pending: boolean;
  linked: string | null;
  caption: string;
  decide: (o: Open) => void;
}) {
  const s = useStyles();
  const l = useLayout();
  const session = useSession();
  const admin = useCan('admin');
  const ownOf = (a: Approval) => session.id !== null && a.requestedBy.id === session.id;
  return (
    <DataTable
      label={props.caption}
      size="small"
      rows={props.items}
      rowKey={(a) => a.approvalId}
      rowProps={(a) => ({
        id: `approval-${a.approvalId}`,
        className: a.approvalId === props.linked ? s.linked : undefined,
        'aria-current': a.approvalId === props.linked ? 'true' : undefined,
      })}
      columns={[
        jobColumn(l.id),
        { header: 'Operation', cell: (a) => what(a) },
        {
          header: 'Why a second person',
          headerStyle: { width: '28%' },
          cell: (a) => (
            <>
              {a.why}
              {a.reason && (
                <Text block size={200} italic>
                  Reason: {a.reason}
                </Text>
              )}
            </>
          ),
        },
        {
          header: 'Asked for by',
          cell: (a) => (
            <>
              {a.requestedBy.name ?? a.requestedBy.id}
              <Text block size={200}>
                {when(a.requestedAt)}
              </Text>
            </>
          ),
        },
        props.pending
          ? { header: 'Expires', cell: (a) => when(a.expiresAt) }
          : { header: 'Decision', cell: (a) => <Decided approval={a} /> },
        props.pending &&
          admin && {
            header: 'Actions',
            cell: (a) => {
              const own = ownOf(a);
              return (
                <>
                  <div className={s.actions}>
                    <Button
                      size="small"
                      appearance="primary"
                      disabledFocusable={own}
                      aria-describedby={own ? `own-${a.approvalId}` : undefined}
                      aria-label={`Approve the ${what(a)} of ${a.jobId}`}
                      onClick={(e) =>
                        props.decide({ approval: a, decision: 'approve', own, opener: e.currentTarget })
                      }
                    >
                      Approve
                    </Button>
                    <Button
                      size="small"
                      aria-label={`${own ? 'Withdraw' : 'Reject'} the ${what(a)} of ${a.jobId}`}
                      onClick={(e) =>
                        props.decide({ approval: a, decision: 'reject', own, opener: e.currentTarget })
                      }
                    >
                      {own ? 'Withdraw' : 'Reject'}
                    </Button>
                  </div>
                  {own && (
                    <Text id={`own-${a.approvalId}`} block size={200} className={s.own}>
                      You asked for this: another Admin must approve it.
                    </Text>
                  )}
                </>
              );
            },
          },
      ]}
    />
  );
}

/** How a request was decided: its state, by whom and when, the note, and what ran. */
function Decided(props: { approval: Approval }) {
  const a = props.approval;
  return (
    <>
      <ApprovalStateBadge state={a.state} /> {a.decidedBy ? `by ${a.decidedBy.name ?? a.decidedBy.id} ` : ''}
      {when(a.decidedAt ?? a.expiresAt)}
      {a.decisionReason && (
        <Text block size={200} italic>
          {a.decisionReason}
        </Text>
      )}
      {a.attemptId && (
        <Text block size={200}>
          <RouterLink to={`/attempts/${encodeURIComponent(a.attemptId)}`}>What ran</RouterLink>
        </Text>
      )}
    </>
  );
}

/** The two-person rule's inbox: pending requests (approve / reject for Admins), then decided ones. */
export function Approvals() {
  const [params] = useSearchParams();
  const linked = params.get('approval');
  const admin = useCan('admin');
  const approvals = useApprovals();
  // Kept here, not in the list: an approved request leaves the pending list while its dialog shows the outcome.
  // The dialog stays mounted after closing: unmounting it (even a moment after) while the request it decided
  // leaves the list left the page aria-hidden in Chromium.
  const [open, setOpen] = useState<Open | null>(null);
  const [visible, setVisible] = useState(false);
  const opener = useRef<HTMLButtonElement | null>(null);
  const decide = (o: Open) => {
    opener.current = o.opener;
    setOpen(o);
    setVisible(true);
  };
  return (
    <>
      {open && (
        <DecideDialog
          key={`${open.approval.approvalId}/${open.decision}`}
          approval={open.approval}
          decision={open.decision}
          own={open.own}
          open={visible}
          onClose={() => {
            setVisible(false);
            // The button may be gone (the request was decided): then focus stays on the page.
            if (opener.current?.isConnected) {
              opener.current.focus();
            }
          }}
        />
      )}
      <PageTitle>Approvals</PageTitle>
      <Text block style={{ marginBottom: 16 }}>
        A restart with Full, Watermark or ForceDeletion, and a start of a job quarantined for a reason that
        needs a person, wait here for a second Admin (another person than the one who asked).{' '}
        {admin ? 'Approving runs the operation at once, through the guard.' : 'Only an Admin can decide.'}
      </Text>
      <Section title="Pending">
        <QueryState
          query={approvals}
          empty={(d) => !d.some((a) => a.state === 'pending')}
          emptyText="No request waits for approval."
        >
          {(d) => (
            <Requests
              caption="Pending approvals"
              items={d.filter((a) => a.state === 'pending')}
              pending
              linked={linked}
              decide={decide}
            />
          )}
        </QueryState>
      </Section>
      <Section title="Decided">
        <QueryState
          query={approvals}
          empty={(d) => !d.some((a) => a.state !== 'pending')}
          emptyText="No request has been decided yet."
        >
          {(d) => (
            <Requests
              caption="Decided approvals"
              items={d.filter((a) => a.state !== 'pending')}
              pending={false}
              linked={linked}
              decide={decide}
            />
          )}
        </QueryState>
      </Section>
    </>
  );
}
