import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../libs/persistence/src/embedded';
import { type TestDatabase, createTestDatabase } from '../support/database';
import { consoleDir } from '../../apps/api/src/console/console';

/**
 * `npm start` as a person meets it: the launcher (apps/api/src/dev/dev-main.ts) run as its own process, from
 * an empty directory, against a throwaway database (DATABASE_URL; the embedded PostgreSQL has its own test).
 */
const root = join(__dirname, '..', '..');
const entry = join(root, 'apps', 'api', 'src', 'dev', 'dev-main.ts');
const register = join(root, 'bench', 'swc-register.js');

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function launch(cwd: string, env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['-r', register, entry], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function ready(run: Run): Promise<void> {
  for (;;) {
    if (run.stdout().includes('Paste these')) {
      // The banner is written in one go; give the last lines a moment.
      await new Promise((r) => setTimeout(r, 100));
      return;
    }
    if (run.child.exitCode !== null) {
      throw new Error(`the launcher exited: ${run.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs the banner's curl lines the way a person pastes them: the exports, then one curl. */
async function pasted(banner: string, comment: string): Promise<number> {
  const exports = banner.split('\n').filter((l) => l.startsWith('export '));
  const line = banner.split('\n').find((l) => l.startsWith('curl') && l.includes(`# ${comment}`));
  if (!line) {
    throw new Error(`no curl line for ${comment}`);
  }
  const env: Record<string, string> = {};
  for (const e of exports) {
    const [, k = '', v = ''] = /^export (\w+)=(.*)$/.exec(e) ?? [];
    env[k] = v;
  }
  const url = (/(\$JOBS\/\S+)/.exec(line)?.[1] ?? '').replace('$JOBS', env.JOBS ?? '');
  const res = await fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${env.TOKEN ?? ''}` } });
  return res.status;
}

// Each launch compiles the launcher with swc on the fly: several seconds on a loaded machine.
jest.setTimeout(300_000);

describe('npm start (the development launcher)', () => {
  let db: TestDatabase;
  let cwd: string;
  let port: number;
  const runs: Run[] = [];
  const start = (env: Record<string, string> = {}): Run => {
    const run = launch(cwd, { DATABASE_URL: db.url, PORT: String(port), ...env });
    runs.push(run);
    return run;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    cwd = mkdtempSync(join(tmpdir(), 'sjg-launcher-'));
    port = await freePort();
  });
  afterAll(async () => {
    for (const r of runs) {
      r.child.kill('SIGKILL');
    }
    rmSync(cwd, { recursive: true, force: true });
    await db.drop();
  });

  it('checks the configuration before starting anything, one line per bad value', async () => {
    const run = launch(cwd, { RATE_LIMIT_PER_JOB: 'abc', PORT: String(port) });
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain('RATE_LIMIT_PER_JOB must be a positive integer, got "abc"');
    expect(run.stderr()).toContain('Nothing was started');
    expect(run.stderr()).not.toMatch(/\n\s+at /);
    expect(existsSync(join(cwd, '.data'))).toBe(false); // no PostgreSQL, no key, no lock
  });

  it('names DATABASE_URL when the database is unreachable', async () => {
    const closed = await freePort();
    const run = launch(cwd, { DATABASE_URL: `postgresql://u:p@127.0.0.1:${closed}/x`, PORT: String(port) });
    expect(await run.exited).toBe(1);
    expect(run.stderr().trim()).toMatch(
      /^npm start: cannot reach the database in DATABASE_URL .*fix DATABASE_URL/,
    );
  });

  it('suggests PORT when the port is in use', async () => {
    const busy: Server = createServer();
    const busyPort = await freePort();
    await new Promise<void>((r) => busy.listen(busyPort, '127.0.0.1', () => r()));
    try {
      const run = start({ PORT: String(busyPort) });
      expect(await run.exited).toBe(1);
      expect(run.stderr().trim()).toBe(
        `npm start: port ${busyPort} on 127.0.0.1 is already in use: set PORT to a free port, e.g. PORT=${busyPort + 1} npm start`,
      );
    } finally {
      busy.close();
    }
  });

  it('prints a banner whose curl lines work, refuses a second start, stops cleanly, and keeps its token', async () => {
    const first = start();
    await ready(first);
    const banner = first.stdout();
    expect(banner).toMatch(/^export TOKEN=ey/m);
    // The console's line is there exactly when its build is (npm run build makes it; a bare checkout has none).
    if (consoleDir() === null) {
      expect(banner).not.toContain('Console');
    } else {
      expect(banner).toContain(`Console  http://`);
    }
    expect(await pasted(banner, 'paused: 200 started')).toBe(200);
    expect(await pasted(banner, 'active: 409 skipped')).toBe(409);
    expect(await pasted(banner, 'not found: 404')).toBe(404);
    expect(banner).toContain('npm run -s token -- read');

    const second = start({ PORT: String(await freePort()) });
    expect(await second.exited).toBe(1);
    expect(second.stderr().trim()).toMatch(
      /^npm start: another npm start is already running in this checkout \(pid \d+\)/,
    );

    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    expect(first.stderr()).toBe('');

    // Restarted: the same token still works, the demo tenant and its cool-downs are new.
    const again = start();
    await ready(again);
    const token = (s: string) => /^export TOKEN=(.*)$/m.exec(s)?.[1];
    expect(token(again.stdout())).toBe(token(banner));
    expect(await pasted(banner, 'paused: 200 started')).toBe(200);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });

  it('listens on HOST', async () => {
    const run = start({ HOST: '127.0.0.2' });
    try {
      await ready(run);
      expect(run.stdout()).toContain(`API      http://127.0.0.2:${port}/v1`);
      const res = await fetch(`http://127.0.0.2:${port}/health/live`);
      expect(res.status).toBe(200);
      await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
    } finally {
      run.child.kill('SIGINT');
      await run.exited;
    }
  });
});
