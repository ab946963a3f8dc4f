import { Link as RouterLink } from 'react-router';
import { jobPath, when } from '../format';
import { OutcomeBadge } from './badges';
import type { Column } from './DataTable';

/** A job id, linked to the job's page. */
export function JobLink(props: { servicePrincipalId: string; jobId: string }) {
  return <RouterLink to={jobPath(props.servicePrincipalId, props.jobId)}>{props.jobId}</RouterLink>;
}

/** "Job": the row's job, linked to its page. */
export function jobColumn<T extends { servicePrincipalId: string; jobId: string }>(
  className: string,
): Column<T> {
  return {
    header: 'Job',
    className,
    cell: (r) => <JobLink servicePrincipalId={r.servicePrincipalId} jobId={r.jobId} />,
  };
}

/** "When": when an attempt was made, linked to its record. */
export function attemptTimeColumn<T extends { attemptId: string; createdAt: string }>(): Column<T> {
  return {
    header: 'When',
    cell: (a) => <RouterLink to={`/attempts/${a.attemptId}`}>{when(a.createdAt)}</RouterLink>,
  };
}

/** "Outcome": an attempt's outcome as a badge. */
export function outcomeColumn<T extends { outcome: string }>(): Column<T> {
  return { header: 'Outcome', cell: (a) => <OutcomeBadge outcome={a.outcome} /> };
}
