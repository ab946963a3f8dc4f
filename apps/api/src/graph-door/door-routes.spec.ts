import { matchDoorRoute, parseGraphRestartBody } from './door-routes';

const SP = '6d3f8a52-1c4b-4e8a-9f27-3b5c0d9e7a14';
const JOBS = `/servicePrincipals/${SP}/synchronization/jobs`;

describe('matchDoorRoute (Graph paths for synchronization jobs)', () => {
  it.each([
    ['GET', JOBS, { kind: 'list', servicePrincipalId: SP }],
    ['GET', `${JOBS}/`, { kind: 'list', servicePrincipalId: SP }],
    ['GET', `${JOBS}/scim.abc`, { kind: 'get', servicePrincipalId: SP, jobId: 'scim.abc' }],
    ['POST', `${JOBS}/scim.abc/start`, { kind: 'start', servicePrincipalId: SP, jobId: 'scim.abc' }],
    ['post', `${JOBS}/scim.abc/Start`, { kind: 'start', servicePrincipalId: SP, jobId: 'scim.abc' }],
    ['POST', `${JOBS}/scim.abc/pause`, { kind: 'pause', servicePrincipalId: SP, jobId: 'scim.abc' }],
    ['POST', `${JOBS}/scim.abc/restart`, { kind: 'restart', servicePrincipalId: SP, jobId: 'scim.abc' }],
    [
      'GET',
      `/serviceprincipals/${SP}/Synchronization/Jobs/scim.abc`,
      { kind: 'get', servicePrincipalId: SP, jobId: 'scim.abc' },
    ],
    ['GET', `/servicePrincipals('${SP}')/synchronization/jobs`, { kind: 'list', servicePrincipalId: SP }],
    ['GET', `${JOBS}/scim%2Eabc`, { kind: 'get', servicePrincipalId: SP, jobId: 'scim.abc' }],
    ['POST', '/$batch', { kind: 'batch' }],
  ] as const)('%s %s', (method, path, expected) => {
    expect(matchDoorRoute(method, path)).toEqual(expected);
  });

  it.each([
    ['GET', '/$batch'],
    ['POST', JOBS],
    ['DELETE', `${JOBS}/scim.abc`],
    ['PATCH', `${JOBS}/scim.abc`],
    ['GET', `${JOBS}/scim.abc/start`],
    ['POST', `${JOBS}/scim.abc/provisionOnDemand`],
    ['GET', `${JOBS}/scim.abc/schema`],
    ['GET', `/servicePrincipals/${SP}`],
    ['GET', '/users'],
    ['GET', '/'],
    ['GET', `${JOBS}/%E0%A4%A`],
  ])('%s %s is not served', (method, path) => {
    expect(matchDoorRoute(method, path)).toEqual({ kind: 'unsupported' });
  });
});

describe("parseGraphRestartBody (Graph's restart criteria)", () => {
  it.each([
    [undefined, []],
    [{}, []],
    [{ criteria: {} }, []],
    [{ criteria: { resetScope: '' } }, []],
    [{ criteria: { resetScope: 'Watermark, Escrows' } }, ['Watermark', 'Escrows']],
    [{ criteria: { resetScope: 'Full' } }, ['Full']],
  ])('%j → %j', (body, scopes) => {
    expect(parseGraphRestartBody(body)).toEqual({ ok: true, resetScope: scopes });
  });

  it.each([
    [[], /JSON object/],
    [{ resetScope: 'Full' }, /"resetScope" is not allowed/],
    [{ criteria: 'Full' }, /criteria must be an object/],
    [{ criteria: { resetScope: ['Full'] } }, /must be a string/],
    [{ criteria: { scope: 'Full' } }, /"scope" is not allowed/],
  ])('%j is refused', (body, message) => {
    const r = parseGraphRestartBody(body);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.message).toMatch(message);
  });
});
