import { describe, expect, it } from 'vitest';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ApiError } from '../api/client';
import { fakeApi, renderWith, ROLES } from '../test/render';
import { attempt, JOBS, job as jobOf, SP } from '../test/fixtures';
import { Jobs } from './Jobs';

const job = (id: string, observedStatus: string, reason: string | null = null) =>
  jobOf(id, observedStatus, {
    quarantine: reason
      ? { reason, seriesBegan: new Date(Date.now() - 3 * 86_400_000).toISOString(), nextAttempt: null }
      : null,
  });

function routes(extra: Record<string, unknown> = {}) {
  return fakeApi({
    'GET /v1/recovery/watches': { items: [], nextCursor: null },
    'GET /v1/attempts': { items: [], nextCursor: null },
    [`GET ${JOBS}`]: {
      items: [
        job('scim.paused', 'paused'),
        job('scim.q', 'quarantine', 'TooManyDeletes'),
        job('scim.active', 'active'),
      ],
    },
    ...extra,
  });
}

describe('Jobs view', () => {
  it('shows the Read role no action: no start, no selection, no bulk start', async () => {
    const { api } = routes();
    renderWith(<Jobs />, { api, roles: ROLES.Read, path: '/jobs', servicePrincipalIds: [SP] });
    await screen.findByText('scim.paused');
    expect(screen.queryAllByRole('button', { name: /^Start/ })).toHaveLength(0);
    expect(screen.queryAllByRole('button', { name: /^More actions/ })).toHaveLength(0);
    expect(screen.queryAllByRole('checkbox')).toHaveLength(0);
    expect(screen.getByText(/TooManyDeletes; 2[0-9] days before auto-disable/)).toBeTruthy();
  });

  it('shows the Start role a start per job and the bulk start', async () => {
    const { api } = routes();
    renderWith(<Jobs />, { api, roles: ROLES.Start, path: '/jobs', servicePrincipalIds: [SP] });
    await screen.findByText('scim.paused');
    expect(screen.getAllByRole('button', { name: /^Start scim\./ })).toHaveLength(3);
    expect(screen.getByRole('button', { name: 'Start selected (0)' })).toBeTruthy();
  });

  it('offers the Start role pause, hold and restart from a row menu, and shows a hold badge', async () => {
    const { api } = routes({
      [`GET ${JOBS}`]: {
        items: [
          job('scim.paused', 'paused'),
          {
            ...job('scim.active', 'active'),
            hold: {
              holdId: 'a0000000-0000-4000-8000-000000000001',
              servicePrincipalId: SP,
              jobId: 'scim.active',
              reason: 'CHG-1',
              until: null,
              placedAt: new Date().toISOString(),
              placedBy: { id: 'someone', name: 'Someone' },
              releasedAt: null,
              releasedBy: null,
              active: true,
            },
          },
        ],
      },
    });
    renderWith(<Jobs />, { api, roles: ROLES.Start, path: '/jobs?held=1', servicePrincipalIds: [SP] });
    await screen.findByText('scim.active');
    // held=1 in the URL: only the held job, with its badge.
    expect(screen.queryByText('scim.paused')).toBeNull();
    expect(screen.getByTitle('CHG-1').textContent).toBe('held');
    await userEvent.click(screen.getByRole('button', { name: 'More actions for scim.active' }));
    const items = (await screen.findAllByRole('menuitem')).map((i) => i.textContent);
    // Already held: no second hold; someone else's hold is not the Start role's to release.
    expect(items).toEqual(['Pause…', 'Restart…']);
    expect(screen.queryByRole('button', { name: /^Release/ })).toBeNull();
    await userEvent.click(screen.getByRole('menuitem', { name: 'Restart…' }));
    expect(await screen.findByRole('dialog', { name: 'Restart scim.active' })).toBeTruthy();
  });

  it('filters by status from the URL', async () => {
    const { api } = routes();
    renderWith(<Jobs />, {
      api,
      roles: ROLES.Read,
      path: '/jobs?status=quarantine',
      servicePrincipalIds: [SP],
    });
    await screen.findByText('scim.q');
    expect(screen.queryByText('scim.paused')).toBeNull();
  });

  it('previews, then starts only after the confirmation', async () => {
    const bodies: unknown[] = [];
    const { api } = routes({
      [`POST ${JOBS}/scim.paused/start`]: (c: { body: { dryRun: boolean } }) => {
        bodies.push(c.body);
        return c.body.dryRun
          ? attempt('dry_run', 'The job is paused: a start would be sent.')
          : attempt('started', 'Graph accepted the start.');
      },
    });
    renderWith(<Jobs />, { api, roles: ROLES.Start, path: '/jobs', servicePrincipalIds: [SP] });
    await userEvent.click(await screen.findByRole('button', { name: 'Start scim.paused' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(await within(dialog).findByRole('textbox'), 'weekly fix');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Preview (dry run)' }));
    await within(dialog).findByText('The job is paused: a start would be sent.');
    expect(bodies).toEqual([{ reason: 'weekly fix', dryRun: true }]);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Confirm start' }));
    await within(dialog).findByText('Graph accepted the start.');
    expect(bodies).toEqual([
      { reason: 'weekly fix', dryRun: true },
      { reason: 'weekly fix', dryRun: false },
    ]);
  });

  it("shows the API's message when the start is refused, and offers no confirmation", async () => {
    const { api } = routes({
      [`POST ${JOBS}/scim.active/start`]: {
        status: 409,
        body: attempt('skipped', 'The job is active: starting it could stop the service.'),
      },
    });
    renderWith(<Jobs />, { api, roles: ROLES.Start, path: '/jobs', servicePrincipalIds: [SP] });
    await userEvent.click(await screen.findByRole('button', { name: 'Start scim.active' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Preview (dry run)' }));
    const alert = await within(dialog).findByRole('alert');
    expect(alert.textContent).toContain('The job is active: starting it could stop the service.');
    expect(within(dialog).queryByRole('button', { name: 'Confirm start' })).toBeNull();
  });

  it('shows an error that is not an attempt (e.g. the audit store is down) with its message', async () => {
    const { api } = routes({
      [`POST ${JOBS}/scim.paused/start`]: () => {
        throw new ApiError(503, 'The audit store is unreachable; nothing was sent to Graph.', null);
      },
    });
    renderWith(<Jobs />, { api, roles: ROLES.Start, path: '/jobs', servicePrincipalIds: [SP] });
    await userEvent.click(await screen.findByRole('button', { name: 'Start scim.paused' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Preview (dry run)' }));
    expect((await within(dialog).findByRole('alert')).textContent).toContain(
      'The audit store is unreachable',
    );
  });

  it('bulk-starts only what the preview said would start, after the typed confirmation', async () => {
    const started: string[] = [];
    const start = (id: string, go: boolean) => (c: { body: { dryRun: boolean } }) => {
      if (!c.body.dryRun) {
        started.push(id);
      }
      return go
        ? attempt(c.body.dryRun ? 'dry_run' : 'started', `${id} ok`)
        : { status: 409, body: attempt('skipped', `${id} is active`) };
    };
    const { api } = routes({
      [`POST ${JOBS}/scim.paused/start`]: start('scim.paused', true),
      [`POST ${JOBS}/scim.q/start`]: start('scim.q', true),
      [`POST ${JOBS}/scim.active/start`]: start('scim.active', false),
    });
    renderWith(<Jobs />, { api, roles: ROLES.Admin, path: '/jobs', servicePrincipalIds: [SP] });
    await screen.findByText('scim.paused');
    await userEvent.click(screen.getByRole('checkbox', { name: 'Select every job shown' }));
    await userEvent.click(screen.getByRole('button', { name: 'Start selected (3)' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Preview (dry run)' }));
    await within(dialog).findByText('2 would start, 1 would be skipped or refused.');
    const confirm = within(dialog).getByRole('button', { name: 'Start 2' });
    expect((confirm as HTMLButtonElement).disabled).toBe(true);
    await userEvent.type(within(dialog).getByRole('textbox'), 'start 2 jobs');
    expect((confirm as HTMLButtonElement).disabled).toBe(false);
    await userEvent.click(confirm);
    await within(dialog).findByText('2 started of 2.');
    expect(started.sort()).toEqual(['scim.paused', 'scim.q']);
  });
});
