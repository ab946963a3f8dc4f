import type { Actor } from '@app/common';

export enum Role {
  Read = 'JobControl.Read',
  Start = 'JobControl.Start',
  Admin = 'JobControl.Admin',
}

/** The authenticated caller, from a verified Entra ID access token. */
export interface Caller {
  actor: Actor;
  roles: ReadonlySet<string>;
  tenantId: string | null;
}

/** Admin implies Read and Start; Start does not imply Read. */
export function hasRole(caller: Caller, role: Role): boolean {
  return caller.roles.has(role) || caller.roles.has(Role.Admin);
}
