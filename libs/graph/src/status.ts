import { isRecord, type ObservedStatus } from '@app/common';
import { GraphError, type QuarantineInfo, type SyncJob } from './graph-client';

/**
 * Graph writes `status.code` in PascalCase (`Paused`); the docs' enum and some SDKs use camelCase.
 * Keys are lower-cased; anything not listed is `unknown` (these enums have no `unknownFutureValue`).
 */
const STATUS_BY_LOWER_CODE: ReadonlyMap<string, ObservedStatus> = new Map<string, ObservedStatus>([
  ['notconfigured', 'notConfigured'],
  ['notrun', 'notRun'],
  ['active', 'active'],
  ['paused', 'paused'],
  ['quarantine', 'quarantine'],
]);

export function normaliseStatusCode(code: unknown): ObservedStatus {
  if (typeof code !== 'string') {
    return 'unknown';
  }
  return STATUS_BY_LOWER_CODE.get(code.trim().toLowerCase()) ?? 'unknown';
}

/** A non-empty string, else null. Graph sends `""` for unset strings even where CSDL says non-nullable. */
function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

/** A timestamp, else null: `""` and .NET's `DateTime.MinValue` sentinel (`0001-01-01T00:00:00Z`) mean "never". */
function timestamp(value: unknown): string | null {
  const s = text(value);
  return s === null || s.startsWith('0001-01-01') ? null : s;
}

/** Int64 may arrive as a number, or as a string under `IEEE754Compatible=true`. */
function integer(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) {
    return value;
  }
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) {
    return Number(value);
  }
  return null;
}

function bool(value: unknown): boolean | null {
  if (typeof value === 'boolean') {
    return value;
  }
  if (value === 'true' || value === 'True') {
    return true;
  }
  if (value === 'false' || value === 'False') {
    return false;
  }
  return null;
}

function parseQuarantine(raw: unknown): QuarantineInfo | null {
  if (!isRecord(raw)) {
    return null;
  }
  const error = isRecord(raw.error)
    ? {
        code: text(raw.error.code),
        message: text(raw.error.message),
        tenantActionable: bool(raw.error.tenantActionable),
      }
    : null;
  const info: QuarantineInfo = {
    reason: text(raw.reason),
    currentBegan: timestamp(raw.currentBegan),
    nextAttempt: timestamp(raw.nextAttempt),
    seriesBegan: timestamp(raw.seriesBegan),
    seriesCount: integer(raw.seriesCount),
    error: error && (error.code !== null || error.message !== null) ? error : null,
  };
  // An object made only of empty values carries no information (Graph's documented Paused example).
  const empty =
    info.reason === null &&
    info.currentBegan === null &&
    info.nextAttempt === null &&
    info.seriesBegan === null &&
    info.error === null;
  return empty ? null : info;
}

/**
 * Reads a `synchronizationJob` defensively. Throws `GraphError('bad_response')` when the body is not a job
 * (no `id`, or no `status.code`). Everything else missing or oddly typed becomes null.
 */
export function normaliseJob(raw: unknown): SyncJob {
  if (!isRecord(raw)) {
    throw new GraphError('bad_response', 'Graph answered something that is not a JSON object');
  }
  const id = text(raw.id);
  if (id === null) {
    throw new GraphError('bad_response', 'Graph answered a job without an id');
  }
  const status = raw.status;
  if (!isRecord(status) || typeof status.code !== 'string') {
    throw new GraphError('bad_response', `Graph answered job ${id} without a status code`);
  }
  const observedStatus = normaliseStatusCode(status.code);
  const schedule = isRecord(raw.schedule)
    ? {
        interval: text(raw.schedule.interval),
        state: text(raw.schedule.state),
        expiration: timestamp(raw.schedule.expiration),
      }
    : null;
  const last = status.lastExecution;
  const lastExecution = isRecord(last)
    ? {
        state: text(last.state),
        timeBegan: timestamp(last.timeBegan),
        timeEnded: timestamp(last.timeEnded),
        errorCode: isRecord(last.error) ? text(last.error.code) : null,
      }
    : null;
  return {
    id,
    templateId: text(raw.templateId),
    observedStatus,
    rawStatusCode: status.code,
    // A Paused (or Active) job may still carry a stale or empty quarantine object: ignore it.
    quarantine: observedStatus === 'quarantine' ? parseQuarantine(status.quarantine) : null,
    schedule,
    lastExecution,
    countSuccessiveCompleteFailures: integer(status.countSuccessiveCompleteFailures),
    troubleshootingUrl: text(status.troubleshootingUrl),
    escrowsPruned: bool(status.escrowsPruned),
  };
}
