import { describe, expect, it, vi } from 'vitest';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router';
import { fakeApi, renderWith, ROLES } from '../test/render';
import { approval, attempt, hold, job, JOBS, ME, OTHER, SP } from '../test/fixtures';
import { JobDetail } from './JobDetail';

const PATH = `/jobs/${SP}/scim.paused`;

function routes(extra: Record<string, unknown> = {}) {
  return fakeApi({
    'GET /v1/recovery/watches': { items: [], nextCursor: null },
    'GET /v1/attempts': { items: [], nextCursor: null },
    'GET /v1/holds': { items: [] },
    'GET /v1/approvals': { items: [] },
    [`GET ${JOBS}/scim.paused`]: job('scim.paused', 'paused'),
    ...extra,
  });
}

const page = (
  <Routes>
    <Route path="/jobs/:spId/:jobId" element={<JobDetail />} />
  </Routes>
);

const ACTION = /^(Start|Pause|Hold|Restart|Release)/;

describe('job detail: job control', () => {
  it('shows the Read role no action, but the hold and its reason', async () => {
    const h = hold();
    const { api } = routes({
      [`GET ${JOBS}/scim.paused`]: job('scim.paused', 'paused', { hold: h }),
      'GET /v1/holds': { items: [h] },
    });
    renderWith(page, { api, roles: ROLES.Read, path: PATH });
    await screen.findByText(/CHG-4711: switching credentials \(placed by Ada Admin/);
    expect(screen.getAllByText('held').length).toBeGreaterThan(0);
    expect(screen.queryAllByRole('button', { name: ACTION })).toHaveLength(0);
  });

  it('offers the Start role start, pause, hold and restart; release only to the placer or an Admin', async () => {
    const h = hold();
    const { api } = routes({
      [`GET ${JOBS}/scim.paused`]: job('scim.paused', 'paused', { hold: h }),
      'GET /v1/holds': { items: [h] },
    });
    const { unmount } = renderWith(page, { api, roles: ROLES.Start, path: PATH, userId: ME });
    await screen.findByText(/CHG-4711: switching credentials \(placed by/);
    expect(screen.getByRole('button', { name: 'Start scim.paused' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Restart scim.paused' })).toBeTruthy();
    // Held: no second hold, and someone else's hold is not ours to release.
    expect(screen.queryByRole('button', { name: 'Hold scim.paused' })).toBeNull();
    expect(screen.queryByRole('button', { name: /^Release/ })).toBeNull();
    unmount();
    renderWith(page, { api, roles: ROLES.Start, path: PATH, userId: OTHER });
    await screen.findByRole('button', { name: 'Release the hold on scim.paused' });
  });

  it('releases a hold its placer placed', async () => {
    const h = hold({ placedBy: { id: ME, name: 'Me' } });
    const { api, calls } = routes({
      'GET /v1/holds': { items: [h] },
      [`DELETE /v1/holds/${h.holdId}`]: { ...h, active: false },
    });
    renderWith(page, { api, roles: ROLES.Start, path: PATH, userId: ME });
    await userEvent.click(await screen.findByRole('button', { name: 'Release the hold on scim.paused' }));
    await vi.waitFor(() => expect(calls.some((c) => c.method === 'DELETE')).toBe(true));
    expect(calls.find((c) => c.method === 'DELETE')?.path).toBe(`/v1/holds/${h.holdId}`);
  });

  it('places a hold with its reason', async () => {
    const h = hold({ placedBy: { id: ME, name: 'Me' } });
    const { api, calls } = routes({ 'POST /v1/holds': h });
    renderWith(page, { api, roles: ROLES.Start, path: PATH, userId: ME });
    await userEvent.click(await screen.findByRole('button', { name: 'Hold scim.paused' }));
    const dialog = await screen.findByRole('dialog');
    const place = within(dialog).getByRole('button', { name: 'Place hold' });
    expect((place as HTMLButtonElement).disabled).toBe(true); // a hold needs a reason
    await userEvent.type(within(dialog).getByRole('textbox', { name: /Why the job/ }), 'CHG-4711');
    await userEvent.click(place);
    await within(dialog).findByText('Hold placed');
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({
      servicePrincipalId: SP,
      jobId: 'scim.paused',
      reason: 'CHG-4711',
    });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Close' }));
  });

  it('pauses and holds in one step', async () => {
    const bodies: unknown[] = [];
    const { api } = routes({
      [`POST ${JOBS}/scim.paused/pause`]: (c: { body: unknown }) => {
        bodies.push(c.body);
        return attempt('paused', 'Graph accepted the pause; hold h keeps it from being started', {
          operation: 'pause',
        });
      },
    });
    renderWith(page, { api, roles: ROLES.Start, path: PATH });
    await userEvent.click(await screen.findByRole('button', { name: 'Pause scim.paused' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByRole('textbox', { name: /Reason/ }), 'credentials change');
    await userEvent.click(within(dialog).getByRole('checkbox', { name: /Also hold the job/ }));
    const submit = within(dialog).getByRole('button', { name: 'Pause and hold' });
    expect((submit as HTMLButtonElement).disabled).toBe(true);
    await userEvent.type(
      within(dialog).getByRole('textbox', { name: /Why the job must stay paused/ }),
      'CHG-1',
    );
    await userEvent.click(submit);
    await within(dialog).findByText(/Graph accepted the pause/);
    expect(bodies).toEqual([{ reason: 'credentials change', hold: { reason: 'CHG-1' } }]);
  });

  it('explains each restart scope, warns on a full re-sync, and links the approval a 202 asks for', async () => {
    const bodies: unknown[] = [];
    const { api } = routes({
      [`POST ${JOBS}/scim.paused/restart`]: (c: { body: unknown }) => {
        bodies.push(c.body);
        return {
          status: 202,
          body: attempt('awaiting_approval', 'A restart with Full needs a second person', {
            operation: 'restart',
            approvalId: 'b0000000-0000-4000-8000-000000000009',
            resetScope: ['Full'],
          }),
        };
      },
    });
    renderWith(page, { api, roles: ROLES.Start, path: PATH });
    await userEvent.click(await screen.findByRole('button', { name: 'Restart scim.paused' }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByText(/re-reads every object in scope/)).toBeTruthy();
    expect(within(dialog).getByText(/TooManyDeletes\) threshold held back/)).toBeTruthy();
    await userEvent.click(within(dialog).getByRole('checkbox', { name: 'Escrows' }));
    expect(within(dialog).queryByText('A full re-sync')).toBeNull();
    await userEvent.click(within(dialog).getByRole('checkbox', { name: 'Full (needs approval)' }));
    expect(within(dialog).getByText('A full re-sync')).toBeTruthy();
    await userEvent.type(within(dialog).getByRole('textbox', { name: /Reason/ }), 'schema change');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Request restart' }));
    await within(dialog).findByText("Waiting for another Admin's approval");
    const link = within(dialog).getByRole('link', { name: 'Open the approval request' });
    expect(link.getAttribute('href')).toBe('/approvals?approval=b0000000-0000-4000-8000-000000000009');
    expect(bodies).toEqual([{ resetScope: ['Escrows', 'Full'], reason: 'schema change' }]);
  });

  it("shows the API's message when a restart is refused (held)", async () => {
    const { api } = routes({
      [`POST ${JOBS}/scim.paused/restart`]: {
        status: 423,
        body: attempt('held', 'Job is on hold: CHG-4711 (placed by Ada Admin)', { operation: 'restart' }),
      },
    });
    renderWith(page, { api, roles: ROLES.Admin, path: PATH });
    await userEvent.click(await screen.findByRole('button', { name: 'Restart scim.paused' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByRole('checkbox', { name: 'Escrows' }));
    await userEvent.type(within(dialog).getByRole('textbox', { name: /Reason/ }), 'stuck objects');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Restart' }));
    expect((await within(dialog).findByRole('alert')).textContent).toContain('Job is on hold: CHG-4711');
  });
});

describe('job detail: one timeline', () => {
  it('puts holds and approvals beside attempts, and filters to failures', async () => {
    const t = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
    const { api } = routes({
      'GET /v1/attempts': {
        items: [
          attempt('started', 'Graph accepted the start.', { createdAt: t(1) }),
          attempt('held', 'Job is on hold: CHG-9', { createdAt: t(5) }),
          attempt('awaiting_approval', 'Needs a second person.', {
            createdAt: t(30),
            approvalId: 'b0000000-0000-4000-8000-000000000002',
          }),
        ],
        nextCursor: null,
      },
      'GET /v1/holds': {
        items: [
          hold({
            reason: 'CHG-9',
            placedAt: t(10),
            releasedAt: t(3),
            releasedBy: { id: ME, name: 'Me' },
            active: false,
          }),
        ],
      },
      'GET /v1/approvals': {
        items: [
          approval({
            approvalId: 'b0000000-0000-4000-8000-000000000002',
            state: 'rejected',
            requestedAt: t(30),
            decidedAt: t(20),
            decidedBy: { id: ME, name: 'Me' },
          }),
          approval({ approvalId: 'b0000000-0000-4000-8000-000000000003', jobId: 'another.job' }),
        ],
      },
    });
    renderWith(page, { api, roles: ROLES.Read, path: PATH });
    const timeline = await screen.findByRole('list', { name: 'Timeline' });
    await within(timeline).findByText('hold released');
    const items = within(timeline).getAllByRole('listitem');
    // started, hold released, held, hold placed, approval (rejected), awaiting_approval: newest first; the other
    // job's approval is not in this job's story.
    expect(items.map((i) => i.textContent ?? '')).toEqual([
      expect.stringContaining('Graph accepted the start.'),
      expect.stringContaining('hold released'),
      expect.stringContaining('Job is on hold: CHG-9'),
      expect.stringContaining('hold placed by Ada Admin'),
      expect.stringContaining('rejected'),
      expect.stringContaining('Needs a second person.'),
    ]);
    await userEvent.click(screen.getByRole('switch', { name: 'Failures only' }));
    const failures = within(screen.getByRole('list', { name: 'Timeline' })).getAllByRole('listitem');
    expect(failures.map((i) => i.textContent ?? '')).toEqual([
      expect.stringContaining('Job is on hold: CHG-9'),
      expect.stringContaining('rejected'),
    ]);
  });
});
