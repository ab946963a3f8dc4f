import { idProblem, parseStartBody } from './start-request';

describe('parseStartBody', () => {
  it.each([
    [undefined, { reason: null, dryRun: false }],
    [{}, { reason: null, dryRun: false }],
    [
      { reason: 'why', dryRun: true },
      { reason: 'why', dryRun: true },
    ],
    [{ reason: null }, { reason: null, dryRun: false }],
  ])('accepts %j', (body, value) => {
    expect(parseStartBody(body)).toEqual({ ok: true, value });
  });

  it.each([
    [[], 'body must be a JSON object'],
    ['text', 'body must be a JSON object'],
    [{ reason: 5 }, 'reason must be a string'],
    [{ dryRun: 'true' }, 'dryRun must be a boolean'],
    [{ reason: 'x'.repeat(501) }, 'reason must be at most 500 characters'],
    [{ force: true }, 'property "force" is not allowed'],
  ])('refuses %j naming the field', (body, message) => {
    expect(parseStartBody(body)).toEqual({ ok: false, message });
  });
});

describe('idProblem (DESIGN section 3, step 1)', () => {
  it.each([
    ['6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14', 'scim.e4bbf44533ea4eabb17027f3a92e92aa', null],
    [
      '6D3F8A52-1C4B-4E8A-9F27-3B5C0D9E7A14',
      'Azure2Azure.1f58d1c9.6a0b230b-0000-4000-8000-000000000000',
      null,
    ],
    ['not-a-guid', 'scim.x', 'servicePrincipalId must be a GUID'],
    ['6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14', '../etc', 'jobId must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$'],
    [
      '6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14',
      '.hidden',
      'jobId must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$',
    ],
    ['6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14', 'a/b', 'jobId must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$'],
    [
      '6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14',
      'a'.repeat(201),
      'jobId must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$',
    ],
  ])('%s / %s → %s', (sp, job, problem) => {
    expect(idProblem(sp, job)).toBe(problem);
  });
});
