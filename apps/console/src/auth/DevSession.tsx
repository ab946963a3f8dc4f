import { type ReactNode, useMemo, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { oidOfToken, rolesOfToken } from './roles';
import { type Session, SessionContext } from './session';

const KEY = 'sjg.console.role';

/** `npm start`: the development identities, one real token per role, with a role switcher. */
export function DevSession(props: {
  identities: { role: string; name: string; token: string }[];
  children: ReactNode;
}) {
  const { identities } = props;
  const queryClient = useQueryClient();
  const [role, setRole] = useState(() => {
    const saved = sessionStorage.getItem(KEY);
    return identities.some((i) => i.role === saved) && saved ? saved : (identities[0]?.role ?? '');
  });
  const session = useMemo<Session>(() => {
    const identity = identities.find((i) => i.role === role) ?? identities[0];
    const token = identity?.token ?? '';
    return {
      name: identity?.name ?? 'unknown',
      id: oidOfToken(token),
      roles: rolesOfToken(token),
      getToken: () => Promise.resolve(token),
      switcher: {
        options: identities.map((i) => i.role),
        current: role,
        switchTo(next: string) {
          sessionStorage.setItem(KEY, next);
          queryClient.clear();
          setRole(next);
        },
      },
    };
  }, [identities, role, queryClient]);
  return <SessionContext.Provider value={session}>{props.children}</SessionContext.Provider>;
}
