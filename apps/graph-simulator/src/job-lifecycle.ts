import type { JobSeed, QuarantineSeed, RestartScope, SimJob, SimQuarantine } from './job-types';
import { RESTART_SCOPES } from './job-types';

/** How Graph's jobs move: seeding, patching, quarantine and its clock, start, restart and pause. */

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
/** Entra ID disables a job that stays in quarantine this long (reference: the quarantine clock). */
export const AUTO_DISABLE_MS = 28 * DAY;

/** What a patch may change: everything a seed sets but the ids. */
export type JobPatch = Partial<Omit<JobSeed, 'id' | 'servicePrincipalId'>>;

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '0000Z'); // Graph writes 7 fractional digits
}

export function jobKeyOf(servicePrincipalId: string, jobId: string): string {
  return `${servicePrincipalId.toLowerCase()}/${jobId}`;
}

/**
 * When Entra ID retries a quarantined job on its own: about 6 h after the series began, then 12 h, 24 h, and
 * daily after that (reference/graph-sync.md, "the quarantine clock").
 */
export function entraNextAttempt(seriesBegan: string, seriesCount: number): string {
  const began = Date.parse(seriesBegan);
  const n = Math.max(1, seriesCount);
  const after = n === 1 ? 6 * HOUR : n === 2 ? 12 * HOUR : (n - 2) * DAY;
  return iso(began + after);
}

/** Parses Graph's comma-separated resetScope; unknown names are returned in `unknown`. */
export function parseResetScope(value: string): { scopes: RestartScope[]; unknown: string[] } {
  const scopes: RestartScope[] = [];
  const unknown: string[] = [];
  for (const part of value.split(',')) {
    const name = part.trim();
    if (name === '') {
      continue;
    }
    const found = RESTART_SCOPES.find((s) => s.toLowerCase() === name.toLowerCase());
    if (found) {
      scopes.push(found);
    } else {
      unknown.push(name);
    }
  }
  return { scopes, unknown };
}

/** A new job from its seed, as if its last cycle ended a minute ago (none for NotRun / NotConfigured). */
export function newJob(seed: JobSeed, servicePrincipalId: string, now: number): SimJob {
  const status = seed.status ?? 'Paused';
  const neverRan = status === 'NotRun' || status === 'NotConfigured';
  const job: SimJob = {
    servicePrincipalId,
    id: seed.id,
    templateId: seed.templateId ?? seed.id.split('.')[0] ?? 'scim',
    status,
    statusCasing: seed.statusCasing ?? 'PascalCase',
    rawStatusCode: seed.rawStatusCode ?? null,
    quarantine: null,
    emptyQuarantineObject: seed.emptyQuarantineObject ?? false,
    relapse: seed.relapse ? { reason: seed.relapse.reason, afterMs: seed.relapse.afterMs ?? 0 } : null,
    relapseAt: null,
    clearedQuarantine: null,
    scheduleState: seed.scheduleState ?? (status === 'Paused' ? 'Paused' : 'Active'),
    interval: seed.interval ?? 'PT40M',
    countSuccessiveCompleteFailures: status === 'Quarantine' ? 1 : 0,
    escrowsPruned: seed.escrowsPruned ?? false,
    escrowCount: seed.escrowCount ?? 0,
    stagedDeletes: seed.stagedDeletes ?? 0,
    watermark: neverRan ? null : iso(now - 39 * 60 * 1000),
    lastRestartScope: null,
    lastExecution: neverRan
      ? null
      : {
          state: status === 'Quarantine' ? 'Failed' : 'Succeeded',
          timeBegan: iso(now - 40 * 60 * 1000),
          timeEnded: iso(now - 39 * 60 * 1000),
          errorCode: null,
        },
  };
  if (seed.quarantine) {
    job.quarantine = buildQuarantine(seed.quarantine, null, now);
  } else if (status === 'Quarantine') {
    job.quarantine = buildQuarantine({ reason: 'EncounteredQuarantineException' }, null, now);
  }
  return job;
}

/** Fields a patch copies as they are. */
const PLAIN_FIELDS = [
  'statusCasing',
  'rawStatusCode',
  'emptyQuarantineObject',
  'scheduleState',
  'interval',
  'escrowsPruned',
  'escrowCount',
  'stagedDeletes',
] as const;

function copyField<K extends (typeof PLAIN_FIELDS)[number]>(job: SimJob, patch: JobPatch, key: K): void {
  const value = patch[key];
  if (value !== undefined) {
    job[key] = value as SimJob[K];
  }
}

/** Changes a job's fields in place (status, casing, relapse ...). */
export function patchJob(job: SimJob, patch: JobPatch, now: number): void {
  if (patch.status !== undefined) {
    job.status = patch.status;
    if (patch.status !== 'Quarantine' && patch.quarantine === undefined) {
      job.quarantine = null;
    }
  }
  for (const key of PLAIN_FIELDS) {
    copyField(job, patch, key);
  }
  if (patch.relapse !== undefined) {
    job.relapse = patch.relapse
      ? { reason: patch.relapse.reason, afterMs: patch.relapse.afterMs ?? 0 }
      : null;
  }
  if (patch.quarantine !== undefined) {
    job.quarantine = patch.quarantine ? buildQuarantine(patch.quarantine, job.quarantine, now) : null;
  }
}

export function buildQuarantine(
  seed: QuarantineSeed,
  previous: SimQuarantine | null,
  now: number,
): SimQuarantine {
  const currentBegan = seed.currentBegan ?? iso(now);
  const seriesBegan = seed.seriesBegan ?? previous?.seriesBegan ?? currentBegan;
  const seriesCount = seed.seriesCount ?? (previous ? previous.seriesCount + 1 : 1);
  return {
    reason: seed.reason,
    currentBegan,
    nextAttempt: seed.nextAttempt ?? entraNextAttempt(seriesBegan, seriesCount),
    seriesBegan,
    seriesCount,
    error: seed.error === undefined ? (previous?.error ?? null) : seed.error,
  };
}

/** Puts a job in quarantine, continuing its series (seriesBegan kept, seriesCount + 1) when already in one. */
export function enterQuarantine(job: SimJob, seed: QuarantineSeed, now: number): void {
  job.quarantine = buildQuarantine(seed, job.quarantine ?? job.clearedQuarantine, now);
  job.clearedQuarantine = null;
  job.status = 'Quarantine';
  job.relapseAt = null;
  job.countSuccessiveCompleteFailures += 1;
  job.lastExecution = {
    state: 'Failed',
    timeBegan: iso(now - 1000),
    timeEnded: iso(now),
    errorCode: job.quarantine.error?.code ?? null,
  };
}

/** What time did to the job since it was last looked at: a relapse into quarantine, an auto-disable. */
export function applyRelapse(job: SimJob, now: number): void {
  if (job.status === 'Active' && job.relapseAt !== null && job.relapseAt <= now && job.relapse) {
    enterQuarantine(job, { reason: job.relapse.reason }, now);
  }
  // Entra ID disables a job that stayed in quarantine 28 days after the series began.
  if (
    job.status === 'Quarantine' &&
    job.quarantine !== null &&
    Date.parse(job.quarantine.seriesBegan) + AUTO_DISABLE_MS <= now
  ) {
    job.scheduleState = 'Disabled';
  }
}

/** Graph's start semantics (relapse already applied). Returns whether it was harmful (not Paused / Quarantine). */
export function startTransition(job: SimJob, now: number): { harmful: boolean } {
  if (job.status !== 'Paused' && job.status !== 'Quarantine') {
    return { harmful: true };
  }
  const fromQuarantine = job.status === 'Quarantine' || job.quarantine !== null;
  job.status = 'Active';
  job.clearedQuarantine = job.quarantine;
  job.quarantine = null;
  job.scheduleState = 'Active';
  job.relapseAt = fromQuarantine && job.relapse ? now + job.relapse.afterMs : null;
  return { harmful: false };
}

/**
 * Graph's restart with the given scopes (an empty list is the portal's "Restart provisioning":
 * QuarantineState + Watermark + Escrows). What each scope clears: QuarantineState the quarantine; Watermark
 * the watermark (a full cycle runs); Escrows the escrowed objects and escrowsPruned; ForceDeletes the deletes
 * the threshold held back (and a TooManyDeletes quarantine); Full all of these. The job then runs (Active),
 * unless it stays in a quarantine that the scopes did not clear.
 */
export function restartTransition(job: SimJob, requested: RestartScope[], now: number): void {
  const scopes = new Set<RestartScope>(
    requested.length === 0 ? ['QuarantineState', 'Watermark', 'Escrows'] : requested,
  );
  const full = scopes.has('Full');
  job.lastRestartScope = [...requested];
  if (full || scopes.has('Watermark')) {
    job.watermark = null;
  }
  if (full || scopes.has('Escrows')) {
    job.escrowCount = 0;
    job.escrowsPruned = false;
  }
  let quarantineCleared = full || scopes.has('QuarantineState');
  if (full || scopes.has('ForceDeletes')) {
    job.stagedDeletes = 0;
    quarantineCleared ||= job.quarantine?.reason === 'TooManyDeletes';
  }
  if (job.status === 'Quarantine' && !quarantineCleared) {
    return;
  }
  if (quarantineCleared) {
    job.clearedQuarantine = job.quarantine;
    job.quarantine = null;
  }
  job.status = 'Active';
  job.scheduleState = 'Active';
  job.relapseAt = job.relapse && quarantineCleared ? now + job.relapse.afterMs : null;
}

export function pauseTransition(job: SimJob): void {
  job.status = 'Paused';
  job.scheduleState = 'Paused';
  job.relapseAt = null;
  // A quarantine object may stay behind (stale) on the paused job, as Graph's own examples show.
}
