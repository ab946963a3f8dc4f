/** Entra ID app roles of the API (DESIGN section 2). Admin implies the other two; Start does not imply Read. */
export type AppRole = 'JobControl.Read' | 'JobControl.Start' | 'JobControl.Admin';
export type Ability = 'read' | 'start' | 'admin';

export function can(roles: readonly string[], ability: Ability): boolean {
  if (roles.includes('JobControl.Admin')) {
    return true;
  }
  switch (ability) {
    case 'read':
      return roles.includes('JobControl.Read');
    case 'start':
      return roles.includes('JobControl.Start');
    case 'admin':
      return false;
  }
}

/** The claims of a JWT, read without verifying it (only to decide what to show; the API decides). */
function claimsOf(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) {
    return {};
  }
  try {
    const json = atob(
      part
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(part.length / 4) * 4, '='),
    );
    const claims = JSON.parse(json) as unknown;
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The `roles` claim of a JWT. */
export function rolesOfToken(token: string): string[] {
  const roles = claimsOf(token).roles;
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
}

/** The `oid` claim of a JWT: the object id the API records as the actor (two-person rules compare it). */
export function oidOfToken(token: string): string | null {
  const oid = claimsOf(token).oid;
  return typeof oid === 'string' ? oid : null;
}
