import { ALL_ROLES, DEV_AUDIENCE, DEV_STABLE_ISSUER } from './dev-issuer';
import { ROLE_PRESETS, launcherToken, mintDevToken, startLauncherIssuer } from './dev-tokens';

/**
 * The development token issuer on its own, for `docker compose --profile simulator`: no Entra ID tenant needed.
 * PORT (4100), HOST (0.0.0.0), DEV_DATA_DIR (/data: where its key is kept). Prints the variables the API needs
 * and tokens per role. For development only: anyone who can reach it can read its keys, not mint tokens.
 */
async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 4100);
  const host = process.env.HOST ?? '0.0.0.0';
  const dataDir = process.env.DEV_DATA_DIR ?? '/data';
  const issuer = await startLauncherIssuer(dataDir, { port, host });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`Development token issuer on ${host}:${port}`);
  out(`  AUTH_ISSUER=${DEV_STABLE_ISSUER}`);
  out(`  AUTH_AUDIENCE=${DEV_AUDIENCE}`);
  out(`  AUTH_JWKS_URI=${issuer.jwksUri.replace('127.0.0.1', '<this host>')}`);
  out(`export TOKEN=${await launcherToken(issuer, dataDir)}   # every role, 30 days`);
  const readOnly = ROLE_PRESETS.read ?? ALL_ROLES;
  out(`export READ_TOKEN=${await mintDevToken(issuer, readOnly)}   # JobControl.Read only`);
  const stop = () => void issuer.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`dev-issuer: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
