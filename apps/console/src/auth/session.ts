import { createContext, useContext } from 'react';
import type { Ability } from './roles';
import { can } from './roles';

/** Who is signed in, what they may do, and how to get a token for the API. */
export interface Session {
  name: string;
  /** The object id (oid) the API records as the actor; null when unknown. */
  id: string | null;
  roles: string[];
  getToken(): Promise<string>;
  /** Development only: the roles the switcher offers and the one in use. */
  switcher?: { options: string[]; current: string; switchTo(role: string): void };
  signOut?: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) {
    throw new Error('useSession outside a signed-in session');
  }
  return s;
}

export function useCan(ability: Ability): boolean {
  return can(useSession().roles, ability);
}
