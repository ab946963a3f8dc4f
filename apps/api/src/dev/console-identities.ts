import type { ConsoleDevIdentity } from '../config/app-config';
import type { DevIssuer } from './dev-issuer';

/**
 * One development user per console role, each with its own object id, and a second Admin so the two-person rule
 * (another Admin approves) can be tried from the console alone.
 */
const IDENTITIES: { role: ConsoleDevIdentity['role']; oid: string; roles: string[] }[] = [
  {
    role: 'Admin',
    oid: '11111111-1111-4111-8111-111111111111',
    roles: ['JobControl.Read', 'JobControl.Start', 'JobControl.Admin'],
  },
  {
    role: 'Second admin',
    oid: '44444444-4444-4444-8444-444444444444',
    roles: ['JobControl.Read', 'JobControl.Start', 'JobControl.Admin'],
  },
  {
    role: 'Start',
    oid: '22222222-2222-4222-8222-222222222222',
    roles: ['JobControl.Read', 'JobControl.Start'],
  },
  { role: 'Read', oid: '33333333-3333-4333-8333-333333333333', roles: ['JobControl.Read'] },
];

/** Real tokens of the development issuer for the console's role switcher (development only). */
export async function consoleDevIdentities(
  issuer: DevIssuer,
  expiresIn = 12 * 3600,
): Promise<ConsoleDevIdentity[]> {
  return Promise.all(
    IDENTITIES.map(async (i) => {
      const name = `Developer (${i.role})`;
      const token = await issuer.sign({
        oid: i.oid,
        roles: i.roles,
        name,
        scp: 'user_impersonation',
        expiresIn,
      });
      return { role: i.role, name, token };
    }),
  );
}
