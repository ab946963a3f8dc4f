import { GraphError } from './graph-client';
import { normaliseJob, normaliseStatusCode } from './status';

describe('normaliseStatusCode', () => {
  it.each([
    ['Paused', 'paused'],
    ['paused', 'paused'],
    ['PAUSED', 'paused'],
    [' Paused ', 'paused'],
    ['NotConfigured', 'notConfigured'],
    ['notConfigured', 'notConfigured'],
    ['notconfigured', 'notConfigured'],
    ['NotRun', 'notRun'],
    ['notRun', 'notRun'],
    ['Active', 'active'],
    ['active', 'active'],
    ['Quarantine', 'quarantine'],
    ['quarantine', 'quarantine'],
    ['Quarantined', 'unknown'],
    ['Disabled', 'unknown'],
    ['', 'unknown'],
    [null, 'unknown'],
    [undefined, 'unknown'],
    [3, 'unknown'],
    [{ code: 'Paused' }, 'unknown'],
  ])('%p → %s', (input, expected) => {
    expect(normaliseStatusCode(input)).toBe(expected);
  });
});

const base = (status: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: 'scim.e4bbf44533ea4eabb17027f3a92e92aa',
  templateId: 'scim',
  schedule: { expiration: null, interval: 'PT40M', state: 'Active' },
  status,
  ...extra,
});

describe('normaliseJob', () => {
  it('reads the documented quarantined example', () => {
    const job = normaliseJob(
      base({
        code: 'Quarantine',
        countSuccessiveCompleteFailures: 1,
        escrowsPruned: false,
        troubleshootingUrl: '',
        steadyStateFirstAchievedTime: '0001-01-01T00:00:00Z',
        lastExecution: {
          state: 'Failed',
          timeBegan: '2021-05-24T21:45:53.6330529Z',
          timeEnded: '2021-05-24T21:45:54.5581273Z',
          error: {
            code: 'SystemForCrossDomainIdentityManagementInvalidCredentials',
            message: 'x',
            tenantActionable: true,
          },
        },
        quarantine: {
          currentBegan: '2021-05-24T21:45:54.4981365Z',
          nextAttempt: '2021-05-24T21:50:54.4981365Z',
          reason: 'EncounteredQuarantineException',
          seriesBegan: '2021-05-24T21:45:54.4981365Z',
          seriesCount: 1,
          error: {
            code: 'SystemForCrossDomainIdentityManagementInvalidCredentials',
            message: 'm',
            tenantActionable: true,
          },
        },
      }),
    );
    expect(job).toEqual({
      id: 'scim.e4bbf44533ea4eabb17027f3a92e92aa',
      templateId: 'scim',
      observedStatus: 'quarantine',
      rawStatusCode: 'Quarantine',
      quarantine: {
        reason: 'EncounteredQuarantineException',
        currentBegan: '2021-05-24T21:45:54.4981365Z',
        nextAttempt: '2021-05-24T21:50:54.4981365Z',
        seriesBegan: '2021-05-24T21:45:54.4981365Z',
        seriesCount: 1,
        error: {
          code: 'SystemForCrossDomainIdentityManagementInvalidCredentials',
          message: 'm',
          tenantActionable: true,
        },
      },
      schedule: { interval: 'PT40M', state: 'Active', expiration: null },
      lastExecution: {
        state: 'Failed',
        timeBegan: '2021-05-24T21:45:53.6330529Z',
        timeEnded: '2021-05-24T21:45:54.5581273Z',
        errorCode: 'SystemForCrossDomainIdentityManagementInvalidCredentials',
      },
      countSuccessiveCompleteFailures: 1,
      troubleshootingUrl: null,
      escrowsPruned: false,
    });
  });

  it('ignores the empty-string quarantine object on a Paused job (the documented GET example)', () => {
    const job = normaliseJob(
      base({
        code: 'Paused',
        quarantine: {
          currentBegan: '',
          nextAttempt: '',
          reason: '',
          seriesBegan: '',
          seriesCount: 0,
          error: null,
        },
      }),
    );
    expect(job.observedStatus).toBe('paused');
    expect(job.quarantine).toBeNull();
  });

  it('ignores a stale, filled quarantine object on a paused job', () => {
    const job = normaliseJob(
      base({
        code: 'paused',
        quarantine: { reason: 'TooManyDeletes', seriesCount: 3, currentBegan: '2024-01-01T00:00:00Z' },
      }),
    );
    expect(job.observedStatus).toBe('paused');
    expect(job.rawStatusCode).toBe('paused');
    expect(job.quarantine).toBeNull();
  });

  it.each([
    ['null quarantine', null],
    [
      'empty-string quarantine',
      { currentBegan: '', nextAttempt: '', reason: '', seriesBegan: '', seriesCount: 0 },
    ],
    [
      'sentinel dates',
      { currentBegan: '0001-01-01T00:00:00Z', nextAttempt: '0001-01-01T00:00:00Z', reason: '' },
    ],
  ])('a Quarantine job with %s has quarantine null', (_label, quarantine) => {
    const job = normaliseJob(base({ code: 'Quarantine', quarantine }));
    expect(job.observedStatus).toBe('quarantine');
    expect(job.quarantine).toBeNull();
  });

  it('treats empty strings and sentinels in a quarantine as null, keeps the rest; Int64 as string', () => {
    const job = normaliseJob(
      base({
        code: 'QUARANTINE',
        quarantine: {
          reason: 'TooManyDeletes',
          currentBegan: '',
          nextAttempt: '0001-01-01T00:00:00Z',
          seriesCount: '4',
        },
      }),
    );
    expect(job.quarantine).toEqual({
      reason: 'TooManyDeletes',
      currentBegan: null,
      nextAttempt: null,
      seriesBegan: null,
      seriesCount: 4,
      error: null,
    });
  });

  it('keeps unknown status codes as unknown with the raw value', () => {
    const job = normaliseJob(base({ code: 'SomethingNew' }));
    expect(job.observedStatus).toBe('unknown');
    expect(job.rawStatusCode).toBe('SomethingNew');
  });

  it('tolerates missing optional parts', () => {
    const job = normaliseJob({ id: 'x', status: { code: 'Active' } });
    expect(job).toMatchObject({
      id: 'x',
      templateId: null,
      observedStatus: 'active',
      quarantine: null,
      schedule: null,
      lastExecution: null,
      countSuccessiveCompleteFailures: null,
      troubleshootingUrl: null,
    });
  });

  it.each([
    ['null', null],
    ['a string', 'Paused'],
    ['an array', [{ id: 'x', status: { code: 'Paused' } }]],
    ['no id', { status: { code: 'Paused' } }],
    ['an empty id', { id: '', status: { code: 'Paused' } }],
    ['no status', { id: 'x' }],
    ['a status without code', { id: 'x', status: {} }],
    ['a numeric code', { id: 'x', status: { code: 3 } }],
    ['an error body', { error: { code: 'X', message: 'y' } }],
  ])('throws bad_response for %s', (_label, raw) => {
    let error: unknown;
    try {
      normaliseJob(raw);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GraphError);
    expect((error as GraphError).kind).toBe('bad_response');
  });
});
