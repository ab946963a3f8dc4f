import { describe, expect, it } from 'vitest';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ApiError } from '../api/client';
import { fakeApi, renderWith, ROLES } from '../test/render';
import { approval, attempt, ME } from '../test/fixtures';
import { Approvals } from './Approvals';

const THEIRS = approval();
const MINE = approval({
  approvalId: 'b0000000-0000-4000-8000-000000000002',
  jobId: 'scim.mine',
  requestedBy: { type: 'user', id: ME, name: 'Me' },
});
const DECIDED = approval({
  approvalId: 'b0000000-0000-4000-8000-000000000003',
  jobId: 'scim.old',
  state: 'approved',
  decidedAt: new Date().toISOString(),
  decidedBy: { id: ME, name: 'Me' },
  attemptId: '0b7f1c2e-0000-4000-8000-000000000777',
});

const routes = (extra: Record<string, unknown> = {}) =>
  fakeApi({ 'GET /v1/approvals': { items: [THEIRS, MINE, DECIDED] }, ...extra });

describe('approvals inbox', () => {
  it('lists pending and decided requests, and shows the Read role no decision', async () => {
    const { api } = routes();
    renderWith(<Approvals />, { api, roles: ROLES.Read, path: '/approvals', userId: ME });
    const pending = await screen.findByRole('table', { name: 'Pending approvals' });
    expect(within(pending).getByText('scim.paused')).toBeTruthy();
    expect(within(pending).getByText('scim.mine')).toBeTruthy();
    const decided = screen.getByRole('table', { name: 'Decided approvals' });
    expect(within(decided).getByText('scim.old')).toBeTruthy();
    expect(within(decided).getByRole('link', { name: 'What ran' }).getAttribute('href')).toBe(
      '/attempts/0b7f1c2e-0000-4000-8000-000000000777',
    );
    expect(screen.queryAllByRole('button')).toHaveLength(0);
    expect(screen.getByText(/Only an Admin can decide/)).toBeTruthy();
  });

  it('does not let an Admin approve their own request, and says why; they may withdraw it', async () => {
    const { api } = routes();
    renderWith(<Approvals />, { api, roles: ROLES.Admin, path: '/approvals', userId: ME });
    const own = await screen.findByRole('button', { name: 'Approve the restart (Full) of scim.mine' });
    expect(own.getAttribute('aria-disabled')).toBe('true');
    expect(own.getAttribute('aria-describedby')).toBe(`own-${MINE.approvalId}`);
    expect(document.getElementById(`own-${MINE.approvalId}`)?.textContent).toBe(
      'You asked for this: another Admin must approve it.',
    );
    expect(screen.getByRole('button', { name: 'Withdraw the restart (Full) of scim.mine' })).toBeTruthy();
    const theirs = screen.getByRole('button', { name: 'Approve the restart (Full) of scim.paused' });
    expect(theirs.getAttribute('aria-disabled')).toBeNull();
  });

  it("approves another person's request: the operation runs and its attempt is shown", async () => {
    const bodies: unknown[] = [];
    const { api } = routes({
      [`POST /v1/approvals/${THEIRS.approvalId}/approve`]: (c: { body: unknown }) => {
        bodies.push(c.body);
        return attempt('restarted', 'Graph accepted the restart.', {
          trigger: 'approval',
          operation: 'restart',
          approvalId: THEIRS.approvalId,
        });
      },
    });
    renderWith(<Approvals />, { api, roles: ROLES.Admin, path: '/approvals', userId: ME });
    await userEvent.click(
      await screen.findByRole('button', { name: 'Approve the restart (Full) of scim.paused' }),
    );
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByText(/Approving runs the restart now/)).toBeTruthy();
    await userEvent.type(within(dialog).getByRole('textbox'), 'checked the change');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Approve' }));
    await within(dialog).findByText('Graph accepted the restart.');
    expect(within(dialog).getByText('Approved and restarted')).toBeTruthy();
    expect(bodies).toEqual([{ reason: 'checked the change' }]);
  });

  it("shows the API's message when the approval is refused", async () => {
    const { api } = routes({
      [`POST /v1/approvals/${THEIRS.approvalId}/approve`]: {
        status: 409,
        body: {
          statusCode: 409,
          error: 'Conflict',
          message: `Approval ${THEIRS.approvalId} expired at 2026-11-29T10:00:00Z`,
        },
      },
      [`POST /v1/approvals/${THEIRS.approvalId}/reject`]: () => {
        throw new ApiError(409, 'Approval was already approved by Bo', null);
      },
    });
    renderWith(<Approvals />, { api, roles: ROLES.Admin, path: '/approvals', userId: ME });
    await userEvent.click(
      await screen.findByRole('button', { name: 'Approve the restart (Full) of scim.paused' }),
    );
    let dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Approve' }));
    expect((await within(dialog).findByRole('alert')).textContent).toContain(
      'expired at 2026-11-29T10:00:00Z',
    );
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await userEvent.click(screen.getByRole('button', { name: 'Reject the restart (Full) of scim.paused' }));
    dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Reject' }));
    expect((await within(dialog).findByRole('alert')).textContent).toContain('already approved by Bo');
  });

  it('highlights the request a link points at', async () => {
    const { api } = routes();
    renderWith(<Approvals />, {
      api,
      roles: ROLES.Read,
      path: `/approvals?approval=${MINE.approvalId}`,
    });
    const table = await screen.findByRole('table', { name: 'Pending approvals' });
    const current = within(table)
      .getAllByRole('row')
      .filter((r) => r.getAttribute('aria-current') === 'true');
    expect(current.map((r) => r.id)).toEqual([`approval-${MINE.approvalId}`]);
  });
});
