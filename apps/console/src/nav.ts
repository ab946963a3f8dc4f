import type { Ability } from './auth/roles';

/** One entry per area. Holds, approvals and notifications join this list as their APIs land. */
export interface NavItem {
  path: string;
  label: string;
  needs: Ability;
}

export const NAV_ITEMS: NavItem[] = [
  { path: '/', label: 'Overview', needs: 'read' },
  { path: '/jobs', label: 'Jobs', needs: 'read' },
  { path: '/audit', label: 'Audit', needs: 'read' },
  { path: '/watches', label: 'Watches and sweeps', needs: 'read' },
  { path: '/grants', label: 'Grants', needs: 'admin' },
];
