import type { SimJob, SimStatusCode, StatusCasing } from './job-types';

/** The synchronizationJob JSON Graph would answer. */
export function toGraphJson(job: SimJob): Record<string, unknown> {
  const q = job.quarantine;
  const quarantine = q
    ? {
        currentBegan: q.currentBegan,
        nextAttempt: q.nextAttempt,
        reason: q.reason,
        seriesBegan: q.seriesBegan,
        seriesCount: q.seriesCount,
        error: q.error,
      }
    : job.emptyQuarantineObject
      ? { currentBegan: '', nextAttempt: '', reason: '', seriesBegan: '', seriesCount: 0, error: null }
      : null;
  const last = job.lastExecution;
  return {
    id: job.id,
    templateId: job.templateId,
    schedule: {
      expiration: null,
      interval: job.scheduleState === 'Disabled' ? 'P10675199DT2H48M5.4775807S' : job.interval,
      state: job.scheduleState,
    },
    status: {
      code: job.rawStatusCode ?? writeStatus(job.status, job.statusCasing),
      countSuccessiveCompleteFailures: job.countSuccessiveCompleteFailures,
      escrowsPruned: job.escrowsPruned,
      lastExecution: last
        ? {
            activityIdentifier: null,
            countEntitled: 0,
            countEntitledForProvisioning: 0,
            countEscrowed: job.escrowCount,
            countEscrowedRaw: job.escrowCount,
            countExported: 0,
            countExports: 0,
            countImported: 0,
            countImportedDeltas: 0,
            countImportedReferenceDeltas: 0,
            state: last.state,
            timeBegan: last.timeBegan,
            timeEnded: last.timeEnded,
            error: last.errorCode ? { code: last.errorCode, message: '', tenantActionable: true } : null,
          }
        : null,
      lastSuccessfulExecution: null,
      lastSuccessfulExecutionWithExports: null,
      progress: [],
      quarantine,
      steadyStateFirstAchievedTime: '0001-01-01T00:00:00Z',
      steadyStateLastAchievedTime: '0001-01-01T00:00:00Z',
      synchronizedEntryCountByType: [],
      troubleshootingUrl: '',
    },
    synchronizationJobSettings: [
      { name: 'QuarantineTooManyDeletesThreshold', value: '500' },
      { name: 'AzureIngestionAttributeOptimization', value: 'False' },
    ],
  };
}

export function writeStatus(status: SimStatusCode, casing: StatusCasing): string {
  switch (casing) {
    case 'PascalCase':
      return status;
    case 'camelCase':
      return status.charAt(0).toLowerCase() + status.slice(1);
    case 'lowercase':
      return status.toLowerCase();
    case 'UPPERCASE':
      return status.toUpperCase();
  }
}
