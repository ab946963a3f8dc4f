/**
 * The quarantine clock and what a person should do for each quarantine reason. One table, used by the job
 * views, recovery, notifications and the console (reference: graph-sync.md, "the quarantine clock").
 */

/** Entra ID disables a job that stays in quarantine this long after the series began. */
export const AUTO_DISABLE_AFTER_DAYS = 28;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface QuarantineClockInput {
  seriesBegan: string | null;
  nextAttempt: string | null;
}

export interface QuarantineClock {
  /** When the current quarantine series began (Graph's `seriesBegan`). */
  since: string | null;
  /** When Entra ID itself retries next (Graph's `nextAttempt`). */
  nextEntraRetry: string | null;
  /** `seriesBegan` + 28 days: when Entra ID disables the job if it is still quarantined. */
  autoDisableAt: string | null;
}

function validTime(value: string | null): number | null {
  if (value === null) {
    return null;
  }
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : t;
}

export function quarantineClock(q: QuarantineClockInput | null): QuarantineClock {
  const began = validTime(q?.seriesBegan ?? null);
  const next = validTime(q?.nextAttempt ?? null);
  return {
    since: began === null ? null : new Date(began).toISOString(),
    nextEntraRetry: next === null ? null : new Date(next).toISOString(),
    autoDisableAt: began === null ? null : new Date(began + AUTO_DISABLE_AFTER_DAYS * DAY_MS).toISOString(),
  };
}

/** Whole days left before `autoDisableAt` (0 once it has passed), or null when unknown. */
export function daysUntilAutoDisable(clock: QuarantineClock, now: Date): number | null {
  const at = validTime(clock.autoDisableAt);
  if (at === null) {
    return null;
  }
  return Math.max(0, Math.floor((at - now.getTime()) / DAY_MS));
}

export interface ReasonAdvice {
  /** Graph's quarantineReason, as Graph spells it. */
  reason: string;
  /** One line: what the reason means. */
  meaning: string;
  /** What a person should do, in order. */
  steps: string[];
  /** Whether a person must act before the job is started again (recovery never starts these). */
  needsPerson: boolean;
}

const ADVICE: readonly ReasonAdvice[] = [
  {
    reason: 'EncounteredQuarantineException',
    meaning:
      'The target system refused the connection: credentials are invalid or expired, or the tenant URL is wrong.',
    steps: [
      'Create a new secret or token for the target application and enter it in the provisioning settings',
      'Run "Test connection" in the Entra admin center',
      'Restart the job (scope QuarantineState), or start it',
    ],
    needsPerson: false,
  },
  {
    reason: 'EncounteredEscrowProportionThreshold',
    meaning: 'More than 40 % of provisioning events failed.',
    steps: [
      'Open the provisioning logs and fix the failing objects or attribute mappings',
      'Restart the job with scope Escrows to clear the failed entries',
    ],
    needsPerson: false,
  },
  {
    reason: 'EncounteredBaseEscrowThreshold',
    meaning: 'Too many objects failed to provision (escrow threshold).',
    steps: [
      'Open the provisioning logs and fix the failing objects',
      'Restart the job with scope Escrows to clear the failed entries',
    ],
    needsPerson: false,
  },
  {
    reason: 'EncounteredTotalEscrowThreshold',
    meaning: 'The total number of failed objects passed the absolute threshold.',
    steps: [
      'Open the provisioning logs and fix the failing objects',
      'Restart the job with scope Escrows to clear the failed entries',
    ],
    needsPerson: false,
  },
  {
    reason: 'TooManyDeletes',
    meaning: 'The accidental-deletions threshold held back deletes and disables.',
    steps: [
      'Review the staged deletes (StagedAction/StagedDelete) in the provisioning logs',
      'If the deletes are wrong, fix scoping or assignments, then ask for an approved start',
      'If the deletes are intended, ask for an approved restart with scope ForceDeletion',
    ],
    needsPerson: true,
  },
  {
    reason: 'QuarantinedOnDemand',
    meaning: 'Microsoft detected an issue with the application and quarantined it by hand.',
    steps: [
      'Check the service health and any support case for the application',
      'Start the job only with an approval, once Microsoft support says it is safe',
    ],
    needsPerson: true,
  },
  {
    reason: 'IngestionInterrupted',
    meaning: 'Ingestion of source data was interrupted.',
    steps: [
      'Check the source system and the provisioning logs',
      'Start the job once the source is reachable',
    ],
    needsPerson: false,
  },
  {
    reason: 'Unknown',
    meaning: 'Graph gave no specific reason.',
    steps: [
      'Open the provisioning logs and the job’s last execution error',
      'Start the job once the cause is fixed',
    ],
    needsPerson: false,
  },
];

const BY_LOWER_REASON = new Map(ADVICE.map((a) => [a.reason.toLowerCase(), a]));
/** Microsoft's pages also spell QuarantinedOnDemand as QuarantineOnDemand. */
BY_LOWER_REASON.set('quarantineondemand', BY_LOWER_REASON.get('quarantinedondemand') as ReasonAdvice);

/** The advice for a quarantine reason (case-insensitive); an unlisted reason gets the `Unknown` advice. */
export function adviceFor(reason: string | null): ReasonAdvice {
  const found = reason === null ? undefined : BY_LOWER_REASON.get(reason.trim().toLowerCase());
  return found ?? { ...(BY_LOWER_REASON.get('unknown') as ReasonAdvice), reason: reason ?? 'Unknown' };
}

export function allReasonAdvice(): readonly ReasonAdvice[] {
  return ADVICE;
}

/** The reason as the table spells it (either spelling of QuarantinedOnDemand, any casing); else as given. */
export function canonicalReason(reason: string): string {
  const trimmed = reason.trim();
  return BY_LOWER_REASON.get(trimmed.toLowerCase())?.reason ?? trimmed;
}

/** The reasons that always need a person; configuration can add to them, never remove them. */
export function builtInNeedsPersonReasons(): string[] {
  return ADVICE.filter((a) => a.needsPerson).map((a) => a.reason);
}

/**
 * Whether a start must wait for a person: the table says so, or `extra` (RECOVERY_NEEDS_PERSON_REASONS) names
 * the reason. Case-insensitive, and Microsoft's alternative spellings count as the reason they name.
 */
export function reasonNeedsPerson(reason: string | null, extra: readonly string[] = []): boolean {
  if (reason === null) {
    return false;
  }
  if (adviceFor(reason).needsPerson) {
    return true;
  }
  const wanted = canonicalReason(reason).toLowerCase();
  return extra.some((x) => canonicalReason(x).toLowerCase() === wanted);
}

/** The built-in reasons followed by the extra ones, each once, in the table's spelling. */
export function needsPersonReasons(extra: readonly string[]): string[] {
  const out = builtInNeedsPersonReasons();
  for (const x of extra) {
    const c = canonicalReason(x);
    if (c !== '' && !out.some((o) => o.toLowerCase() === c.toLowerCase())) {
      out.push(c);
    }
  }
  return out;
}
