import { AuthenticationError, callerFromClaims } from './token-verifier';
import { Role, hasRole } from './roles';

describe('callerFromClaims (DESIGN section 2: the actor comes from the token)', () => {
  it('a delegated token (scp) is a user named by name', () => {
    const c = callerFromClaims({
      oid: 'u-1',
      scp: 'access_as_user',
      name: 'Ada',
      preferred_username: 'ada@x',
      roles: ['JobControl.Read'],
    });
    expect(c.actor).toEqual({ type: 'user', id: 'u-1', name: 'Ada' });
  });

  it('an app token (no scp) is an app named by azp when it has no name', () => {
    const c = callerFromClaims({ oid: 'sp-1', azp: 'scheduler-app', roles: [] });
    expect(c.actor).toEqual({ type: 'app', id: 'sp-1', name: 'scheduler-app' });
  });

  it('falls back to preferred_username, and refuses a token without oid', () => {
    expect(callerFromClaims({ oid: 'u', scp: 'x', preferred_username: 'p@x' }).actor.name).toBe('p@x');
    expect(() => callerFromClaims({ roles: [] })).toThrow(AuthenticationError);
    // Grants and the audit key on the object id: a subject alone is not enough.
    expect(() => callerFromClaims({ sub: 'abc', roles: ['JobControl.Admin'] })).toThrow(AuthenticationError);
  });

  it('keeps only string roles', () => {
    const c = callerFromClaims({ oid: 'x', roles: ['JobControl.Start', 42, null] });
    expect([...c.roles]).toEqual(['JobControl.Start']);
  });
});

describe('hasRole', () => {
  const caller = (roles: string[]) => callerFromClaims({ oid: 'x', roles });
  it.each([
    [['JobControl.Admin'], Role.Read, true],
    [['JobControl.Admin'], Role.Start, true],
    [['JobControl.Start'], Role.Read, false],
    [['JobControl.Read'], Role.Start, false],
    [['JobControl.Start'], Role.Start, true],
    [[], Role.Read, false],
  ] as const)('%j has %s: %s', (roles, role, expected) => {
    expect(hasRole(caller([...roles]), role)).toBe(expected);
  });
});
