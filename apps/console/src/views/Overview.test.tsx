import { describe, expect, it } from 'vitest';
import { screen, within } from '@testing-library/react';
import { fakeApi, renderWith, ROLES } from '../test/render';
import { approval, hold, job, JOBS, SP } from '../test/fixtures';
import { Overview } from './Overview';

describe('overview: held jobs and pending approvals', () => {
  it('counts and lists held jobs (a whole service principal too) and requests waiting for a second person', async () => {
    const { api } = fakeApi({
      'GET /v1/recovery/watches': { items: [], nextCursor: null },
      'GET /v1/attempts': { items: [], nextCursor: null },
      'GET /v1/attempts/stats': { from: null, to: null, total: 0, byOutcome: {} },
      [`GET ${JOBS}`]: { items: [job('scim.paused', 'paused', { hold: hold() })] },
      'GET /v1/holds': {
        items: [
          hold(),
          hold({ holdId: 'a0000000-0000-4000-8000-000000000002', jobId: null, reason: 'freeze' }),
        ],
      },
      'GET /v1/approvals': {
        items: [
          approval(),
          approval({ approvalId: 'b0000000-0000-4000-8000-000000000002', state: 'rejected' }),
        ],
      },
    });
    renderWith(<Overview />, { api, roles: ROLES.Read, servicePrincipalIds: [SP] });
    const held = await screen.findByRole('table', { name: 'Held jobs' });
    expect(within(held).getByRole('link', { name: 'scim.paused' })).toBeTruthy();
    expect(within(held).getByText(`every job of ${SP}`)).toBeTruthy();
    expect(within(held).getByText('freeze')).toBeTruthy();
    const pending = await screen.findByRole('table', { name: 'Pending approvals' });
    expect(within(pending).getAllByRole('row')).toHaveLength(2); // header + the one pending request
    expect(within(pending).getByRole('link', { name: 'restart (Full)' }).getAttribute('href')).toBe(
      '/approvals?approval=b0000000-0000-4000-8000-000000000001',
    );
    const count = (label: string) =>
      screen.getByText(label, { selector: 'p' }).previousElementSibling?.textContent;
    expect(count('Held')).toBe('2');
    expect(count('Pending approvals')).toBe('1');
  });
});
