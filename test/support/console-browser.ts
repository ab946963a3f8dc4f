import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { DEMO_SERVICE_PRINCIPAL_ID } from '../../apps/graph-simulator/src';
import { consoleDevIdentities } from '../../apps/api/src/dev/console-identities';
import { type TestStack, startStack } from './harness';

/**
 * The operator console in a real headless Chromium (Debian's `chromium`, or CHROMIUM_PATH), against the real API,
 * PostgreSQL and the Graph simulator with the demo tenant, signed in with the development identities (real
 * tokens of each role). Shared by the console's end-to-end tests.
 */
const ROOT = join(__dirname, '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Without the networking flags Chromium keeps trying the (closed) network. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export type ConsoleRole = 'Admin' | 'Second admin' | 'Start' | 'Read';

/**
 * Where screenshots go: `.ci/out/screenshots` (ignored by git) on every run, so `npm test` leaves the checkout
 * as it was; `npm run screenshots` sets SJG_SCREENSHOTS_DIR=docs/screenshots to refresh the README's.
 */
export function screenshotPath(name: string): string {
  const dir = resolve(ROOT, process.env.SJG_SCREENSHOTS_DIR ?? '.ci/out/screenshots');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

export interface ConsoleBrowser {
  stack: TestStack;
  page: Page;
  /** `${api}/console` */
  base: string;
  /** Each development identity's token and object id, by role. */
  tokens: Partial<Record<ConsoleRole, string>>;
  oid: Partial<Record<ConsoleRole, string>>;
  /** Errors the page logged or threw (a test asserts there are none). */
  browserErrors: string[];
  /** A call to the API as the Admin identity; the body parsed when there is one. */
  api<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }>;
  /** No serious or critical axe-core violation on the page as it is now. */
  expectAccessible(view: string): Promise<void>;
  switchRole(role: ConsoleRole): Promise<void>;
  close(): Promise<void>;
}

export interface ConsoleBrowserOptions {
  /** Browser console errors a test expects by design (e.g. Chromium's log line of a 409 refusal). */
  expectedErrors?: (text: string) => boolean;
}

export async function openConsole(options: ConsoleBrowserOptions = {}): Promise<ConsoleBrowser> {
  if (!existsSync(join(ROOT, 'dist/console/index.html'))) {
    execFileSync('npx', ['vite', 'build', '--config', 'apps/console/vite.config.mts'], {
      cwd: ROOT,
      stdio: 'ignore',
    });
  }
  const stack = await startStack({ RATE_LIMIT_PER_JOB: '1000', START_COOLDOWN_SECONDS: '0' });
  stack.sim.reset('demo');
  const identities = await consoleDevIdentities(stack.env.issuer);
  stack.app.config.console.devIdentities = identities;
  stack.app.config.console.servicePrincipalIds = [DEMO_SERVICE_PRINCIPAL_ID];
  const tokens: Partial<Record<ConsoleRole, string>> = {};
  const oid: Partial<Record<ConsoleRole, string>> = {};
  for (const i of identities) {
    const claims = JSON.parse(Buffer.from(i.token.split('.')[1] ?? '', 'base64url').toString()) as {
      oid: string;
    };
    tokens[i.role] = i.token;
    oid[i.role] = claims.oid;
  }

  const userDataDir = mkdtempSync(join(tmpdir(), 'sjg-console-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1024, height: 800 },
      // Dialogs fade in: with motion reduced, axe never measures contrast half-way through a transition.
      reducedMotion: 'reduce',
    });
  } catch (error) {
    rmSync(userDataDir, { recursive: true, force: true });
    await stack.close();
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const browserErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !(options.expectedErrors?.(m.text()) ?? false)) {
      browserErrors.push(m.text());
    }
  });
  page.on('pageerror', (e) => browserErrors.push(e.message));

  return {
    stack,
    page,
    base: `${stack.app.url}/console`,
    tokens,
    oid,
    browserErrors,
    async api<T>(path: string, init: RequestInit = {}) {
      const res = await fetch(`${stack.app.url}${path}`, {
        ...init,
        headers: {
          Authorization: `Bearer ${tokens.Admin ?? ''}`,
          'Content-Type': 'application/json',
          ...init.headers,
        },
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
    },
    async expectAccessible(view: string) {
      // A transition still running (a dialog opening) would be measured at its half-way colours.
      await page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running'));
      const result = await new AxeBuilder({ page }).analyze();
      const bad = result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map(
          (v) =>
            `${view}: ${v.id} (${v.impact}) ${v.nodes.map((n) => `${n.target.join(' ')} ${n.html}`).join(', ')}`,
        );
      expect(bad).toEqual([]);
    },
    async switchRole(role: ConsoleRole) {
      await page.getByRole('combobox', { name: 'Role' }).selectOption(role);
      await page.getByRole('banner').getByText(`Developer (${role})`).waitFor();
    },
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
      await stack.close();
    },
  };
}
