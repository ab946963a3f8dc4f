import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Role } from '../../apps/api/src/auth/roles';
import { loadConfig } from '../../apps/api/src/config/app-config';

/** scripts/entra-setup.sh cannot reach a tenant here: its dry run, what it writes, and its shell are checked. */
const root = join(__dirname, '..', '..');
const script = join(root, 'scripts', 'entra-setup.sh');

interface AppRole {
  allowedMemberTypes: string[];
  id: string;
  isEnabled: boolean;
  value: string;
}

describe('scripts/entra-setup.sh', () => {
  const out = mkdtempSync(join(tmpdir(), 'sjg-entra-'));
  let stdout = '';
  let stderr = '';

  beforeAll(() => {
    const r = spawnSync(
      'bash',
      [script, '--dry-run', '--out', out, '--group', '11111111-2222-4333-8444-555555555555'],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(0);
    stdout = r.stdout;
    stderr = r.stderr;
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes the three app roles the service checks, for people and for apps', () => {
    const roles = JSON.parse(readFileSync(join(out, 'app-roles.json'), 'utf8')) as AppRole[];
    expect(roles.map((r) => r.value).sort()).toEqual([Role.Admin, Role.Read, Role.Start].sort());
    for (const r of roles) {
      expect(r.allowedMemberTypes.sort()).toEqual(['Application', 'User']);
      expect(r.isEnabled).toBe(true);
    }
    expect(new Set(roles.map((r) => r.id)).size).toBe(3);
  });

  it('asks Entra ID for v2 access tokens (aud = the client id) and exposes a delegated scope', () => {
    const api = JSON.parse(readFileSync(join(out, 'api.json'), 'utf8')) as {
      requestedAccessTokenVersion: number;
      oauth2PermissionScopes: { value: string; type: string; isEnabled: boolean }[];
    };
    expect(api.requestedAccessTokenVersion).toBe(2);
    expect(api.oauth2PermissionScopes).toEqual([
      expect.objectContaining({ value: 'user_impersonation', type: 'User', isEnabled: true }),
    ]);
  });

  it('prints the az commands in dry-run: API app, Graph permission with admin consent, scripts client, group roles', () => {
    expect(stderr).toMatch(/^az ad app create --display-name sync-job-guard-api .*--app-roles @/m);
    expect(stderr).toMatch(/^az ad app update --id .* --identifier-uris api:\/\//m);
    expect(stderr).toMatch(
      /^az ad sp show --id 00000003-0000-0000-c000-000000000000 --query .*Synchronization\.ReadWrite\.All/m,
    );
    expect(stderr).toMatch(/appRoleAssignments/);
    expect(stderr).toMatch(/sync-job-guard-scripts/);
    expect(stderr).toContain('11111111-2222-4333-8444-555555555555');
    const ownedBy = spawnSync('bash', [script, '--dry-run', '--out', out, '--owned-by'], {
      encoding: 'utf8',
    });
    expect(ownedBy.stderr).toMatch(/--query .*Application\.ReadWrite\.OwnedBy/);
    expect(ownedBy.stderr).not.toMatch(/Synchronization\.ReadWrite\.All/);
  });

  it('prints variables the service accepts in production, with the audience list and the v2 issuer', () => {
    const vars = Object.fromEntries(
      stdout
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => {
          const i = l.indexOf('=');
          return [l.slice(0, i), l.slice(i + 1)];
        }),
    ) as Record<string, string>;
    expect(vars.AUTH_ISSUER).toBe('https://login.microsoftonline.com/<tenant-id>/v2.0');
    expect(vars.AUTH_AUDIENCE).toBe('<api-client-id>,api://<api-client-id>');
    const real = (v: string) =>
      v
        .replace(/<tenant-id>/g, '0f3a6c1e-5b7d-4e2f-9a8c-1d2e3f4a5b6c')
        .replace(/<api-client-id>/g, '6e3c1b0a-1f5d-4c8e-9a7b-2d4f6a8c0e12')
        .replace(/<[a-z-]+>/g, 'x');
    const config = loadConfig({
      ...Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, real(v)])),
      NODE_ENV: 'production',
      DATABASE_URL: 'postgresql://u:p@db:5432/sjg',
    });
    expect(config.auth.audience).toBe(
      '6e3c1b0a-1f5d-4c8e-9a7b-2d4f6a8c0e12,api://6e3c1b0a-1f5d-4c8e-9a7b-2d4f6a8c0e12',
    );
    expect(stdout).toContain('az account get-access-token --resource api://');
    expect(stdout).toContain('grant_type=client_credentials');
  });

  it('is valid shell (bash -n, and shellcheck where installed)', () => {
    execFileSync('bash', ['-n', script]);
    const shellcheck = spawnSync('shellcheck', ['--version']);
    if (shellcheck.status === 0) {
      const r = spawnSync('shellcheck', [script], { encoding: 'utf8' });
      expect(r.stdout).toBe('');
      expect(r.status).toBe(0);
    }
  });
});
