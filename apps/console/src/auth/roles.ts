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

/** The `roles` claim of a JWT, read without verifying it (only to decide what to show; the API decides). */
export function rolesOfToken(token: string): string[] {
  const part = token.split('.')[1];
  if (!part) {
    return [];
  }
  try {
    const json = atob(
      part
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(part.length / 4) * 4, '='),
    );
    const claims = JSON.parse(json) as { roles?: unknown };
    return Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
  } catch {
    return [];
  }
}
