import { describe, expect, it, vi } from 'vitest';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { fakeApi, renderWith, ROLES } from '../test/render';
import { SP } from '../test/fixtures';
import { Notifications } from './Notifications';

const DEST = {
  destinationId: 'd0000000-0000-4000-8000-000000000001',
  kind: 'webhook',
  name: 'on-call hook',
  url: 'https://hooks.example/sjg',
  hasSecret: true,
  eventTypes: ['job.needs_attention'],
  servicePrincipalIds: [],
  managed: false,
  createdAt: new Date().toISOString(),
  createdBy: 'admin-oid',
};
const delivery = (state: string, extra: Record<string, unknown> = {}) => ({
  deliveryId: `e0000000-0000-4000-8000-00000000000${state === 'dead' ? 1 : 2}`,
  eventId: 'f0000000-0000-4000-8000-000000000001',
  eventType: 'job.needs_attention',
  eventTime: new Date().toISOString(),
  servicePrincipalId: SP,
  jobId: 'scim.q',
  destinationId: DEST.destinationId,
  destinationKind: 'webhook',
  state,
  attempts: state === 'dead' ? 12 : 1,
  nextAttemptAt: null,
  lastAttemptAt: new Date().toISOString(),
  lastStatus: state === 'dead' ? 500 : 204,
  lastError: state === 'dead' ? 'the receiver answered 500' : null,
  createdAt: new Date().toISOString(),
  deliveredAt: state === 'delivered' ? new Date().toISOString() : null,
  deadAt: state === 'dead' ? new Date().toISOString() : null,
  ...extra,
});

const routes = (extra: Record<string, unknown> = {}) =>
  fakeApi({
    'GET /v1/notifications/destinations': { items: [DEST] },
    'GET /v1/notifications/deliveries': {
      items: [delivery('dead'), delivery('delivered')],
      nextCursor: null,
    },
    ...extra,
  });

describe('notifications (Admin)', () => {
  it('lists destinations without secrets, and deliveries with their state and last error', async () => {
    const { api } = routes();
    renderWith(<Notifications />, { api, roles: ROLES.Admin, path: '/notifications' });
    const dests = await screen.findByRole('table', { name: 'Destinations' });
    expect(within(dests).getByText('on-call hook')).toBeTruthy();
    expect(within(dests).getByText('webhook (signed)')).toBeTruthy();
    const deliveries = await screen.findByRole('table', { name: 'Deliveries' });
    expect(within(deliveries).getByText(/the receiver answered 500/)).toBeTruthy();
    expect(within(deliveries).getAllByRole('link', { name: 'scim.q' })).toHaveLength(2);
  });

  it('adds a webhook destination with its secret and event filter', async () => {
    const bodies: unknown[] = [];
    const { api } = routes({
      'POST /v1/notifications/destinations': (c: { body: unknown }) => {
        bodies.push(c.body);
        return DEST;
      },
    });
    renderWith(<Notifications />, { api, roles: ROLES.Admin, path: '/notifications' });
    await screen.findByRole('table', { name: 'Destinations' });
    await userEvent.type(screen.getByRole('textbox', { name: /^URL/ }), 'https://hooks.example/new');
    await userEvent.type(screen.getByLabelText(/Signing secret/), 'whsec_c2VjcmV0');
    await userEvent.click(screen.getByRole('checkbox', { name: 'hold.placed' }));
    await userEvent.click(screen.getByRole('button', { name: 'Add destination' }));
    await vi.waitFor(() => expect(bodies).toHaveLength(1));
    expect(bodies[0]).toEqual({
      kind: 'webhook',
      url: 'https://hooks.example/new',
      secret: 'whsec_c2VjcmV0',
      eventTypes: ['hold.placed'],
    });
  });

  it("shows the API's message when a destination is refused", async () => {
    const { api } = routes({
      'POST /v1/notifications/destinations': {
        status: 400,
        body: { statusCode: 400, error: 'Bad Request', message: 'secret must be a whsec_ secret' },
      },
    });
    renderWith(<Notifications />, { api, roles: ROLES.Admin, path: '/notifications' });
    await screen.findByRole('table', { name: 'Destinations' });
    await userEvent.selectOptions(screen.getByRole('combobox', { name: /Kind/ }), 'slack');
    expect(screen.queryByLabelText(/Signing secret/)).toBeNull();
    await userEvent.type(screen.getByRole('textbox', { name: /^URL/ }), 'https://hooks.slack.example/x');
    await userEvent.click(screen.getByRole('button', { name: 'Add destination' }));
    expect((await screen.findByRole('alert')).textContent).toContain('secret must be a whsec_ secret');
  });

  it('sends a dead delivery again, and removes a destination after a confirmation', async () => {
    const { api, calls } = routes({
      [`POST /v1/notifications/deliveries/${delivery('dead').deliveryId}/redeliver`]: delivery('pending'),
      [`DELETE /v1/notifications/destinations/${DEST.destinationId}`]: null,
    });
    renderWith(<Notifications />, { api, roles: ROLES.Admin, path: '/notifications' });
    const deliveries = await screen.findByRole('table', { name: 'Deliveries' });
    const again = within(deliveries).getAllByRole('button', {
      name: 'Send job.needs_attention to webhook again',
    });
    await userEvent.click(again[0] as HTMLElement);
    await vi.waitFor(() => expect(calls.some((c) => c.path.endsWith('/redeliver'))).toBe(true));
    const confirm = vi.spyOn(window, 'confirm').mockReturnValue(true);
    await userEvent.click(screen.getByRole('button', { name: 'Remove destination on-call hook' }));
    expect(confirm).toHaveBeenCalledOnce();
    await vi.waitFor(() => expect(calls.some((c) => c.method === 'DELETE')).toBe(true));
  });
});
