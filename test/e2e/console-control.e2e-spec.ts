import type { Page } from 'playwright-core';
import { DEMO_JOBS, DEMO_SERVICE_PRINCIPAL_ID } from '../../apps/graph-simulator/src';
import type { TestStack } from '../support/harness';
import {
  type ConsoleBrowser,
  type ConsoleRole,
  openConsole,
  screenshotPath,
} from '../support/console-browser';

/**
 * Job control from the operator console (DESIGN 2c/2d/2e) in a real headless Chromium, against the real API,
 * PostgreSQL and the Graph simulator with the demo tenant: holds, pause, restart with the two-person rule
 * (requested by one Admin, approved from the inbox by another), notifications, and what the Read role sees.
 */

const SP = DEMO_SERVICE_PRINCIPAL_ID;
type Role = ConsoleRole;

interface AttemptBody {
  outcome: string;
  operation: string;
  trigger: string;
  approvalId: string | null;
  holdId: string | null;
  resetScope: string[];
  actor: { id: string };
  requestedBy: { id: string } | null;
}
interface HoldBody {
  holdId: string;
  jobId: string | null;
  reason: string;
  active: boolean;
}
interface ApprovalBody {
  approvalId: string;
  state: string;
  attemptId: string | null;
  requestedBy: { id: string };
  decidedBy: { id: string } | null;
}

// A real browser and axe-core scans on a shared 2-core machine: generous per-test time.
jest.setTimeout(180_000);

describe('console job control (headless Chromium, real API, PostgreSQL and simulator)', () => {
  let b: ConsoleBrowser;
  let stack: TestStack;
  let page: Page;
  let base: string;
  let browserErrors: string[];
  const api = <T>(path: string, init?: RequestInit) => b.api<T>(path, init);
  const expectAccessible = (view: string) => b.expectAccessible(view);
  const switchRole = (role: ConsoleRole) => b.switchRole(role);
  let oid: Partial<Record<Role, string>>;
  const jobPage = (jobId: string) => `${base}/jobs/${SP}/${encodeURIComponent(jobId)}`;

  beforeAll(async () => {
    b = await openConsole();
    ({ stack, page, base, browserErrors, oid } = b);
  }, 180_000);

  afterAll(async () => {
    await b?.close();
  });

  it('offers a second Admin identity, so the two-person rule can be tried from the console', async () => {
    const res = await fetch(`${base}/config.json`);
    const config = (await res.json()) as { auth: { identities: { role: string }[] } };
    expect(config.auth.identities.map((i) => i.role)).toEqual(['Admin', 'Second admin', 'Start', 'Read']);
    expect(oid['Second admin']).toBeDefined();
    expect(oid['Second admin']).not.toBe(oid.Admin);
  });

  it('holds a job from its page, shows the hold badge, then releases it', async () => {
    const job = DEMO_JOBS.pausedCamelCase;
    await page.goto(jobPage(job));
    await page.getByRole('button', { name: `Hold ${job}` }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('textbox', { name: /Why the job/ }).fill('CHG-4711: switching credentials');
    await expectAccessible('hold dialog');
    await dialog.getByRole('button', { name: 'Place hold' }).click();
    await dialog.getByText('Hold placed').waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();

    const holds = await api<{ items: HoldBody[] }>(`/v1/holds?servicePrincipalId=${SP}&jobId=${job}`);
    expect(holds.body.items.map((h) => [h.jobId, h.reason, h.active])).toEqual([
      [job, 'CHG-4711: switching credentials', true],
    ]);
    // The guard refuses a start while the hold applies: 423 held, with the hold's reason.
    const start = await api<AttemptBody>(`/v1/servicePrincipals/${SP}/synchronization/jobs/${job}/start`, {
      method: 'POST',
      body: '{}',
    });
    expect([start.status, start.body.outcome]).toEqual([423, 'held']);

    await page.goto(`${base}/jobs?held=1`);
    const table = page.getByRole('table', { name: 'Jobs' });
    await table.getByText(job).waitFor();
    await expect(table.getByRole('row').count()).resolves.toBe(2); // header + the held job
    // The hold badge (its title is the reason) beside the status; the last attempt is the refused start.
    await table.getByTitle('CHG-4711: switching credentials').waitFor();
    await expectAccessible('jobs (held only)');

    await page.goto(jobPage(job));
    await page
      .getByRole('region', { name: 'Status' })
      .getByText('CHG-4711: switching credentials (placed by', { exact: false })
      .waitFor();
    const timeline = page.getByRole('list', { name: 'Timeline' });
    await timeline.getByText('hold placed by Developer (Admin)', { exact: false }).waitFor();
    await timeline.getByText('Job is on hold', { exact: false }).first().waitFor();
    await page.screenshot({ path: screenshotPath('job-hold.png'), fullPage: true });
    await expectAccessible('job detail (held)');
    await page.getByRole('button', { name: `Release the hold on ${job}` }).click();
    await page.getByRole('button', { name: `Hold ${job}` }).waitFor();
    await timeline.getByText('hold released').waitFor();
    const after = await api<{ items: HoldBody[] }>(`/v1/holds?servicePrincipalId=${SP}&jobId=${job}`);
    expect(after.body.items).toEqual([]);
  });

  it('pauses a running job and holds it in the same step', async () => {
    const job = DEMO_JOBS.active;
    await page.goto(jobPage(job));
    await page.getByRole('button', { name: `Pause ${job}` }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('textbox', { name: /Reason/ }).fill('console e2e pause');
    await dialog.getByRole('checkbox', { name: /Also hold the job/ }).check();
    await dialog.getByRole('textbox', { name: /Why the job must stay paused/ }).fill('CHG-5: data fix');
    await expectAccessible('pause dialog');
    await dialog.getByRole('button', { name: 'Pause and hold' }).click();
    await dialog.getByRole('status').filter({ hasText: 'Paused' }).waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();

    const rows = await api<{ items: AttemptBody[] }>(`/v1/attempts?jobId=${job}&limit=1`);
    expect(rows.body.items[0]?.outcome).toBe('paused');
    expect(rows.body.items[0]?.operation).toBe('pause');
    expect(rows.body.items[0]?.holdId).not.toBeNull();
    const holds = await api<{ items: HoldBody[] }>(`/v1/holds?servicePrincipalId=${SP}&jobId=${job}`);
    expect(holds.body.items.map((h) => h.reason)).toEqual(['CHG-5: data fix']);
    await page.getByRole('button', { name: `Release the hold on ${job}` }).waitFor();
  });

  it('asks for a full re-sync, and another Admin approves it from the inbox', async () => {
    const job = DEMO_JOBS.paused;
    await page.goto(jobPage(job));
    await page.getByRole('button', { name: `Restart ${job}` }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('re-reads every object in scope', { exact: false }).waitFor();
    await dialog.getByRole('checkbox', { name: 'Full (needs approval)' }).check();
    await dialog.getByText('A full re-sync', { exact: true }).waitFor();
    await dialog.getByRole('textbox', { name: /Reason/ }).fill('rebuild after the schema change');
    // Usable at 1024 px: the explanations wrap inside the dialog.
    await expect(dialog.evaluate((d) => d.scrollWidth - d.clientWidth)).resolves.toBeLessThanOrEqual(0);
    await page.screenshot({ path: screenshotPath('restart-dialog.png') });
    await expectAccessible('restart dialog');
    await dialog.getByRole('button', { name: 'Request restart' }).click();
    await dialog.getByText("Waiting for another Admin's approval").waitFor();
    // Nothing was sent to Graph: the restart waits for a second person.
    expect(stack.sim.state.requests({ operation: 'restart', jobId: job })).toHaveLength(0);
    await dialog.getByRole('link', { name: 'Open the approval request' }).click();

    // The requester sees the request, highlighted, and may not approve it.
    await page.getByRole('heading', { level: 1, name: 'Approvals' }).waitFor();
    const pending = page.getByRole('table', { name: 'Pending approvals' });
    const own = pending.getByRole('button', { name: `Approve the restart (Full) of ${job}` });
    await own.waitFor();
    await expect(own.getAttribute('aria-disabled')).resolves.toBe('true');
    await pending.getByText('You asked for this: another Admin must approve it.').waitFor();
    await expect(pending.locator('tr[aria-current="true"]').count()).resolves.toBe(1);
    await page.screenshot({ path: screenshotPath('approvals.png'), fullPage: true });
    await expectAccessible('approvals');

    await switchRole('Second admin');
    await pending.getByRole('button', { name: `Approve the restart (Full) of ${job}` }).click();
    const decide = page.getByRole('dialog');
    await decide.getByRole('textbox').fill('checked the change ticket');
    await decide.getByRole('button', { name: 'Approve' }).click();
    await decide.getByText('Approved and restarted').waitFor();
    await decide.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('table', { name: 'Decided approvals' }).getByText('approved').waitFor();

    const approvals = await api<{ items: ApprovalBody[] }>('/v1/approvals');
    const decided = approvals.body.items.find((a) => a.state === 'approved');
    expect(decided?.requestedBy.id).toBe(oid.Admin);
    expect(decided?.decidedBy?.id).toBe(oid['Second admin']);
    expect(stack.sim.state.requests({ operation: 'restart', jobId: job })).toHaveLength(1);
    const ran = await api<{ items: AttemptBody[] }>(`/v1/attempts?jobId=${job}&limit=1`);
    expect(ran.body.items[0]).toMatchObject({
      outcome: 'restarted',
      operation: 'restart',
      trigger: 'approval',
      resetScope: ['Full'],
      actor: { id: oid['Second admin'] },
      requestedBy: { id: oid.Admin },
    });
    // The job's story tells it: the request, the approval and the restart.
    await page.goto(jobPage(job));
    const timeline = page.getByRole('list', { name: 'Timeline' });
    await timeline.getByText('restarted', { exact: true }).waitFor();
    await timeline.getByText('awaiting_approval', { exact: true }).waitFor();
    await timeline.getByText('approved', { exact: true }).first().waitFor();
    await switchRole('Admin');
  });

  it('manages notification destinations and lists deliveries (Admin)', async () => {
    await page.goto(`${base}/notifications`);
    await page.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor();
    await page.getByRole('textbox', { name: /^URL/ }).fill('http://127.0.0.1:9/hooks/sjg');
    await page.getByLabel(/Signing secret/).fill(`whsec_${Buffer.alloc(32, 7).toString('base64')}`);
    await page.getByRole('checkbox', { name: 'hold.placed' }).check();
    await page.getByRole('button', { name: 'Add destination' }).click();
    const table = page.getByRole('table', { name: 'Destinations' });
    await table.getByText('http://127.0.0.1:9/hooks/sjg').waitFor();
    await table.getByText('webhook (signed)').waitFor();
    await page.getByRole('heading', { name: 'Deliveries' }).waitFor();
    await expectAccessible('notifications');
    const listed = await api<{ items: { destinationId: string; eventTypes: string[] }[] }>(
      '/v1/notifications/destinations',
    );
    expect(listed.body.items.map((d) => d.eventTypes)).toEqual([['hold.placed']]);
    page.once('dialog', (d) => void d.accept());
    await table.getByRole('button', { name: /^Remove destination/ }).click();
    await page.getByText('No destination: events are kept, not sent.').waitFor();
  });

  it('is keyboard operable: Tab to Restart, Enter opens the dialog, Escape closes it and returns focus', async () => {
    const job = DEMO_JOBS.quarantined;
    await page.goto(jobPage(job));
    const restart = page.getByRole('button', { name: `Restart ${job}` });
    await restart.waitFor();
    let focused = '';
    for (let i = 0; i < 40 && focused !== `Restart ${job}`; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? '');
    }
    expect(focused).toBe(`Restart ${job}`);
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await expect(page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).resolves.toBe(
      `Restart ${job}`,
    );
  });

  it('follows the dark colour scheme on the new views without violations', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${base}/approvals`);
    await page.getByRole('table', { name: 'Decided approvals' }).waitFor();
    await expectAccessible('approvals (dark)');
    await page.goto(jobPage(DEMO_JOBS.active));
    await page.getByRole('list', { name: 'Timeline' }).waitFor();
    await expectAccessible('job detail (dark)');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('shows the Read role no action on the new views', async () => {
    await page.goto(`${base}/`);
    await switchRole('Read');
    await page.getByRole('table', { name: 'Held jobs' }).getByText(DEMO_JOBS.active).waitFor();
    await expectAccessible('overview (Read)');
    await page.goto(jobPage(DEMO_JOBS.active));
    await page.getByText('CHG-5: data fix', { exact: false }).first().waitFor();
    await expect(
      page.getByRole('button', { name: /^(Start|Pause|Hold|Restart|Release|More)/ }).count(),
    ).resolves.toBe(0);
    await expectAccessible('job detail (Read)');
    await page.goto(`${base}/approvals`);
    await page.getByRole('table', { name: 'Decided approvals' }).waitFor();
    await expect(page.getByRole('main').getByRole('button').count()).resolves.toBe(0);
    await expectAccessible('approvals (Read)');
    await expect(page.getByRole('link', { name: 'Notifications' }).count()).resolves.toBe(0);
    await page.goto(`${base}/notifications`);
    await page.getByText('This view needs the JobControl.Admin role.').waitFor();
    // Start sees start, pause, hold and restart, but no decision on approvals.
    await switchRole('Start');
    await page.goto(jobPage(DEMO_JOBS.paused));
    await page.getByRole('button', { name: `Pause ${DEMO_JOBS.paused}` }).waitFor();
    await page.getByRole('button', { name: `Restart ${DEMO_JOBS.paused}` }).waitFor();
    await page.goto(`${base}/approvals`);
    await page.getByRole('table', { name: 'Decided approvals' }).waitFor();
    await expect(page.getByRole('main').getByRole('button').count()).resolves.toBe(0);
    await switchRole('Admin');
  });

  it('wrote nothing to the browser console', () => {
    expect(browserErrors).toEqual([]);
  });
});
