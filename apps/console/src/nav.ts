import type { Ability } from './auth/roles';

/** One entry per area, shown to the roles that may use it. */
export interface NavItem {
  path: string;
  label: string;
  needs: Ability;
}

export const NAV_ITEMS: NavItem[] = [
  { path: '/', label: 'Overview', needs: 'read' },
  { path: '/jobs', label: 'Jobs', needs: 'read' },
  { path: '/approvals', label: 'Approvals', needs: 'read' },
  { path: '/audit', label: 'Audit', needs: 'read' },
  { path: '/watches', label: 'Watches and sweeps', needs: 'read' },
  { path: '/grants', label: 'Grants', needs: 'admin' },
  { path: '/notifications', label: 'Notifications', needs: 'admin' },
];
