import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { DEMO_JOBS, DEMO_SERVICE_PRINCIPAL_ID } from '../../apps/graph-simulator/src';
import { RecoveryService } from '../../apps/api/src/recovery/recovery.service';
import type { TestStack } from '../support/harness';
import {
  type ConsoleBrowser,
  type ConsoleRole,
  openConsole,
  screenshotPath,
} from '../support/console-browser';

/**
 * The operator console in a real headless Chromium, against the real API, PostgreSQL and the Graph simulator
 * with the demo tenant, signed in with the development identities (real tokens of each role).
 */
const ROOT = join(__dirname, '../..');
const SP = DEMO_SERVICE_PRINCIPAL_ID;

interface AttemptBody {
  outcome: string;
  jobId: string;
  reason: string | null;
  message: string;
  wouldStart: boolean | null;
}

// A real browser and axe-core scans on a shared 2-core machine: generous per-test time.
jest.setTimeout(180_000);

describe('operator console (headless Chromium, real API, PostgreSQL and simulator)', () => {
  let b: ConsoleBrowser;
  let stack: TestStack;
  let page: Page;
  let base: string;
  let browserErrors: string[];
  const api = <T = { items: AttemptBody[] }>(path: string, init?: RequestInit) => b.api<T>(path, init);
  const expectAccessible = (view: string) => b.expectAccessible(view);
  const switchRole = (role: ConsoleRole) => b.switchRole(role);

  beforeAll(async () => {
    // Chromium logs every 4xx response; a 409 is the guard's refusal by design (asserted below), not an error.
    b = await openConsole({ expectedErrors: (text) => text.includes('status of 409') });
    ({ stack, page, base, browserErrors } = b);
    // A watched job that needs a person: the sweep leaves it for the needs-attention queue.
    const watch = await api('/v1/recovery/watches', {
      method: 'POST',
      body: JSON.stringify({ servicePrincipalId: SP, jobId: DEMO_JOBS.quarantinedTooManyDeletes }),
    });
    expect(watch.status).toBe(201);
    await stack.app.app.get(RecoveryService).sweep(new Date());
  }, 180_000);

  afterAll(async () => {
    await b?.close();
  });

  it('serves the console and its runtime configuration from the API, same origin', async () => {
    const res = await fetch(`${base}/config.json`);
    const config = (await res.json()) as { auth: { mode: string; identities: { role: string }[] } };
    expect(config.auth.mode).toBe('dev');
    expect(config.auth.identities.map((i: { role: string }) => i.role)).toEqual([
      'Admin',
      'Second admin',
      'Start',
      'Read',
    ]);
    const deep = await fetch(`${base}/jobs/${SP}/x`, { headers: { Accept: 'text/html' } });
    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain('<div id="root">');
    expect(deep.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('keeps the initial JavaScript within 400 KB gzipped', () => {
    const dir = join(ROOT, 'dist/console');
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    // The entry script and every module it preloads: what a first visit downloads before the console runs.
    const initial = [...html.matchAll(/(?:src|href)="\/console\/(assets\/[^"]+\.js)"/g)].map(
      (m) => m[1] ?? '',
    );
    expect(initial.length).toBeGreaterThan(0);
    const gzipped = initial.reduce((n, f) => n + gzipSync(readFileSync(join(dir, f))).length, 0);
    console.log(
      `console initial JavaScript: ${(gzipped / 1024).toFixed(1)} KB gzipped (${initial.join(', ')})`,
    );
    expect(gzipped).toBeLessThanOrEqual(400 * 1024);
  });

  it("shows the demo tenant's quarantined jobs with their reasons, and the needs-attention queue first", async () => {
    await page.goto(`${base}/`);
    const quarantined = page.getByRole('table', { name: 'Quarantined jobs' });
    await quarantined.getByText(DEMO_JOBS.quarantined).waitFor();
    for (const reason of ['EncounteredQuarantineException', 'TooManyDeletes', 'QuarantinedOnDemand']) {
      await expect(quarantined.getByText(reason, { exact: false }).count()).resolves.toBeGreaterThan(0);
    }
    const attention = page.getByRole('table', { name: 'Needs attention' });
    await attention.getByText(DEMO_JOBS.quarantinedTooManyDeletes).waitFor();
    // The shared advice for the reason, and the auto-disable clock.
    await expect(attention.getByText('Review the staged deletes', { exact: false }).count()).resolves.toBe(1);
    await expect(attention.getByText(/\d+ days/).count()).resolves.toBe(1);
    // Usable at 1024 px: no horizontal scrolling.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: screenshotPath('overview.png'), fullPage: true });
    await expectAccessible('overview');
  });

  it('starts a job with a dry-run preview and a confirmation', async () => {
    await page.goto(`${base}/jobs`);
    await expectAccessible('jobs');
    await page.getByRole('button', { name: `Start ${DEMO_JOBS.paused}` }).click();
    await page.getByRole('dialog').getByRole('textbox').fill('console e2e start');
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    await page.getByText('The start would go ahead').waitFor();
    await expectAccessible('start dialog');
    await page.getByRole('button', { name: 'Confirm start' }).click();
    await page.getByRole('dialog').getByRole('status').filter({ hasText: 'Started' }).waitFor();
    await page.getByRole('button', { name: 'Close' }).click();

    const rows = await api(`/v1/attempts?jobId=${DEMO_JOBS.paused}`);
    expect(rows.body.items.map((a) => a.outcome)).toEqual(['started', 'dry_run']);
    expect(rows.body.items[0]?.reason).toBe('console e2e start');
  });

  it('shows that start in the audit view, filtered by the URL', async () => {
    await page.goto(`${base}/audit?jobId=${DEMO_JOBS.paused}&outcome=started`);
    const table = page.getByRole('table', { name: 'Attempts' });
    await table.getByText(DEMO_JOBS.paused).waitFor();
    await expect(table.getByRole('row').count()).resolves.toBe(2); // header + the start
    await expect(page.getByRole('checkbox', { name: 'started', exact: true }).isChecked()).resolves.toBe(
      true,
    );
    await page.getByRole('img', { name: 'Attempts over time by outcome' }).waitFor();
    await page.goto(`${base}/audit`);
    await page.getByRole('table', { name: 'Attempts' }).getByText(DEMO_JOBS.paused).first().waitFor();
    await page.getByRole('img', { name: 'Attempts over time by outcome' }).locator('svg').first().waitFor();
    await page.screenshot({ path: screenshotPath('audit.png'), fullPage: true });
    await expectAccessible('audit');
  });

  it("tells a job's story: one timeline with a failures-only filter and links to each attempt", async () => {
    await page.goto(`${base}/jobs/${SP}/${DEMO_JOBS.paused}`);
    const timeline = page.getByRole('list', { name: 'Timeline' });
    await timeline.getByRole('listitem').nth(1).waitFor();
    await expect(timeline.getByRole('listitem').count()).resolves.toBe(2);
    await page.screenshot({ path: screenshotPath('job-timeline.png'), fullPage: true });
    await expectAccessible('job detail');
    await page.getByRole('switch', { name: 'Failures only' }).click();
    await page.getByText('No failure for this job.').waitFor();
    expect(page.url()).toContain('failures=1');
    await page.getByRole('switch', { name: 'Failures only' }).click();
    await timeline.getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Attempt' }).waitFor();
    await page.getByText('console e2e start').waitFor();
    await expectAccessible('attempt');
  });

  it("shows the API's message when the guard refuses", async () => {
    await page.goto(`${base}/jobs`);
    await page.getByRole('button', { name: `Start ${DEMO_JOBS.active}` }).click();
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    const alert = page.getByRole('dialog').getByRole('alert');
    await alert.waitFor();
    const refused = await api(`/v1/attempts?jobId=${DEMO_JOBS.active}&limit=1`);
    // A preview is always a dry run; wouldStart says the start would be refused (and the message says why).
    expect(refused.body.items[0]?.outcome).toBe('dry_run');
    expect(refused.body.items[0]?.wouldStart).toBe(false);
    await expect(alert.innerText()).resolves.toContain(refused.body.items[0]?.message ?? 'no attempt');
    await expect(page.getByRole('button', { name: 'Confirm start' }).count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  it('bulk-starts a filtered selection after a preview and a typed confirmation', async () => {
    await page.goto(`${base}/jobs?status=quarantine`);
    const table = page.getByRole('table', { name: 'Jobs' });
    await table.getByText(DEMO_JOBS.quarantinedOnDemand).waitFor();
    await expect(table.getByRole('row').count()).resolves.toBe(4);
    await page.getByRole('checkbox', { name: 'Select every job shown' }).check();
    await page.getByRole('button', { name: 'Start selected (3)' }).click();
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    // Two of the three are quarantined for reasons that need a person: their preview says a second person must
    // approve (the two-person rule), so only one would start.
    await page.getByText('1 would start, 2 would be skipped or refused.').waitFor();
    const confirm = page.getByRole('button', { name: 'Start 1' });
    await expect(confirm.isDisabled()).resolves.toBe(true);
    await page.getByRole('textbox', { name: /to confirm/ }).fill('start 1 job');
    await expect(confirm.isDisabled()).resolves.toBe(false);
    await expectAccessible('bulk start');
    await confirm.click();
    await page.getByText('1 started of 1.').waitFor();
    const started = await api('/v1/attempts?outcome=started&trigger=api');
    const ids = started.body.items.map((a) => a.jobId);
    expect(ids).toContain(DEMO_JOBS.quarantined);
    expect(ids).not.toContain(DEMO_JOBS.quarantinedTooManyDeletes);
    expect(ids).not.toContain(DEMO_JOBS.quarantinedOnDemand);
    await page.getByRole('button', { name: 'Close' }).click();
  });

  it('shows the watches, sweeps and grants views without violations (Admin)', async () => {
    await page.goto(`${base}/watches`);
    await page
      .getByRole('table', { name: 'Watched jobs' })
      .getByText(DEMO_JOBS.quarantinedTooManyDeletes)
      .waitFor();
    await page.getByRole('table', { name: 'Sweeps' }).waitFor();
    await expectAccessible('watches');
    await page.goto(`${base}/grants`);
    await page.getByRole('heading', { level: 1, name: 'Grants' }).waitFor();
    await page.getByText('No grant', { exact: false }).waitFor();
    await expectAccessible('grants');
  });

  it('follows the dark colour scheme without violations', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${base}/`);
    await page.getByRole('table', { name: 'Needs attention' }).waitFor();
    await expectAccessible('overview (dark)');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('shows the Read role no action at all', async () => {
    await page.goto(`${base}/jobs`);
    await switchRole('Read');
    await page.getByRole('table', { name: 'Jobs' }).getByText(DEMO_JOBS.paused).waitFor();
    await expect(page.getByRole('button', { name: /^Start/ }).count()).resolves.toBe(0);
    await expect(page.getByRole('checkbox').count()).resolves.toBe(0);
    await expect(page.getByRole('link', { name: 'Grants' }).count()).resolves.toBe(0);
    await expectAccessible('jobs (Read)');
    await page.goto(`${base}/jobs/${SP}/${DEMO_JOBS.paused}`);
    await page.getByRole('list', { name: 'Timeline' }).waitFor();
    await expect(page.getByRole('button', { name: /^Start/ }).count()).resolves.toBe(0);
    await page.goto(`${base}/watches`);
    await page.getByRole('table', { name: 'Watched jobs' }).waitFor();
    await expect(
      page
        .getByRole('button')
        .filter({ hasText: /Watch|Stop watching/ })
        .count(),
    ).resolves.toBe(0);
    // Start sees start but no administration.
    await switchRole('Start');
    await page.goto(`${base}/jobs`);
    await page.getByRole('button', { name: `Start ${DEMO_JOBS.paused}` }).waitFor();
    await expect(page.getByRole('link', { name: 'Grants' }).count()).resolves.toBe(0);
    await switchRole('Admin');
  });

  it('is keyboard navigable: Tab reaches the navigation, Enter follows it', async () => {
    await page.goto(`${base}/`);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    let focused = '';
    for (let i = 0; i < 15 && focused !== 'Jobs'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement?.textContent ?? '');
    }
    expect(focused).toBe('Jobs');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Jobs' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/console/jobs');
  });

  it('wrote nothing to the browser console', () => {
    expect(browserErrors).toEqual([]);
  });
});
