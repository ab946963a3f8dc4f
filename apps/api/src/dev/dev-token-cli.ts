import { existsSync } from 'node:fs';
import { ALL_ROLES } from './dev-issuer';
import { DEV_KEY_FILE, ROLE_PRESETS, mintDevToken, startLauncherIssuer } from './dev-tokens';

/**
 * `npm run -s token -- [read|start|admin|all|JobControl.X ...]`: prints a development token for `npm start`
 * with the given roles (every role by default), e.g. `export READ_TOKEN=$(npm run -s token -- read)`.
 */
async function main(): Promise<void> {
  if (!existsSync(DEV_KEY_FILE)) {
    throw new Error('no development key yet: run npm start once in this checkout');
  }
  const args = process.argv.slice(2);
  const roles = args.length === 0 ? ALL_ROLES : args.flatMap((a) => ROLE_PRESETS[a.toLowerCase()] ?? [a]);
  const unknown = roles.filter((r) => !ALL_ROLES.includes(r));
  if (unknown.length > 0) {
    throw new Error(
      `unknown role ${unknown.join(', ')}: use read, start, admin, all or ${ALL_ROLES.join(', ')}`,
    );
  }
  const issuer = await startLauncherIssuer();
  try {
    process.stdout.write(`${await mintDevToken(issuer, roles)}\n`);
  } finally {
    await issuer.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`npm run token: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
