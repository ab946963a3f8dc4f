import { daysUntilAutoDisable, quarantineClock } from '@app/common/quarantine';
import type { Job } from './api/types';

export function when(iso: string | null | undefined): string {
  if (!iso) {
    return '—';
  }
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function shortId(id: string): string {
  return id.length > 13 ? `${id.slice(0, 8)}…` : id;
}

/** The quarantine clock of a job and the whole days before Entra ID disables it. */
export function clockOf(job: Job, now = new Date()) {
  const clock = quarantineClock(job.quarantine);
  return { ...clock, daysLeft: daysUntilAutoDisable(clock, now) };
}

export function jobPath(spId: string, jobId: string): string {
  return `/jobs/${encodeURIComponent(spId)}/${encodeURIComponent(jobId)}`;
}
