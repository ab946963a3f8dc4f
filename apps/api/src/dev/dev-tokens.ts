import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { ALL_ROLES, DEV_AUDIENCE, DEV_STABLE_ISSUER, type DevIssuer, startDevIssuer } from './dev-issuer';

/**
 * Development tokens of `npm start`, signed with the key kept under .data/ (so they survive a restart). One
 * place to mint a token per role: the launcher's banner, `npm run token -- <roles>`, and anything else the
 * launcher serves (e.g. a console) use it.
 */
export const DEV_DATA_DIR = '.data';
export const DEV_KEY_FILE = join(DEV_DATA_DIR, 'dev-signing-key.json');
const TOKEN_FILE = join(DEV_DATA_DIR, 'dev-token.json');
/** Development tokens last 30 days; one is re-minted when less than a day is left. */
const TOKEN_LIFETIME_SECONDS = 30 * 24 * 3600;

export const ROLE_PRESETS: Record<string, string[]> = {
  all: ALL_ROLES,
  admin: ['JobControl.Admin'],
  start: ['JobControl.Start'],
  read: ['JobControl.Read'],
};

/** The issuer of `npm start` (stable `iss`, key under .data/). */
export function startLauncherIssuer(
  dataDir = DEV_DATA_DIR,
  listen: { port?: number; host?: string } = {},
): Promise<DevIssuer> {
  return startDevIssuer({
    ...listen,
    audience: DEV_AUDIENCE,
    issuer: DEV_STABLE_ISSUER,
    keyFile: join(dataDir, 'dev-signing-key.json'),
  });
}

export async function mintDevToken(
  issuer: DevIssuer,
  roles: string[],
  name = roles.length === ALL_ROLES.length ? 'Developer' : `Developer (${roles.join(', ')})`,
): Promise<string> {
  return issuer.sign({ name, scp: 'user_impersonation', roles, expiresIn: TOKEN_LIFETIME_SECONDS });
}

/** The every-role token of the banner: the same one across restarts while it is valid for more than a day. */
export async function launcherToken(issuer: DevIssuer, dataDir = DEV_DATA_DIR): Promise<string> {
  const file = join(dataDir, 'dev-token.json');
  if (existsSync(file)) {
    try {
      const { token } = JSON.parse(readFileSync(file, 'utf8')) as { token: string };
      const claims = decodeJwt(token);
      if (claims.iss === issuer.issuer && (claims.exp ?? 0) - Date.now() / 1000 > 24 * 3600) {
        return token;
      }
    } catch {
      // unreadable: mint a new one
    }
  }
  const token = await mintDevToken(issuer, ALL_ROLES);
  writeFileSync(file, JSON.stringify({ token }), { mode: 0o600 });
  return token;
}

export { TOKEN_FILE };
