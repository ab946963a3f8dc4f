import { describe, expect, it } from 'vitest';
import { can, oidOfToken, rolesOfToken } from './roles';

const token = (claims: object) =>
  `e30.${btoa(JSON.stringify(claims)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}.sig`;

describe('roles', () => {
  it('Admin implies Start and Read; Start does not imply Read', () => {
    expect(['read', 'start', 'admin'].map((a) => can(['JobControl.Admin'], a as 'read'))).toEqual([
      true,
      true,
      true,
    ]);
    expect(can(['JobControl.Start'], 'read')).toBe(false);
    expect(can(['JobControl.Start'], 'start')).toBe(true);
    expect(can(['JobControl.Read'], 'start')).toBe(false);
    expect(can(['JobControl.Read', 'JobControl.Start'], 'admin')).toBe(false);
  });

  it("reads the token's roles claim, and nothing from a malformed token", () => {
    expect(rolesOfToken(token({ roles: ['JobControl.Read', 7] }))).toEqual(['JobControl.Read']);
    expect(rolesOfToken(token({ scp: 'x' }))).toEqual([]);
    expect(rolesOfToken('not-a-jwt')).toEqual([]);
    expect(rolesOfToken('a.%%%.b')).toEqual([]);
  });

  it("reads the token's oid (the actor the API records), and nothing from a malformed token", () => {
    expect(oidOfToken(token({ oid: '11111111-1111-4111-8111-111111111111' }))).toBe(
      '11111111-1111-4111-8111-111111111111',
    );
    expect(oidOfToken(token({ oid: 7 }))).toBeNull();
    expect(oidOfToken('not-a-jwt')).toBeNull();
  });
});
