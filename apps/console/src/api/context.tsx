import { createContext, type ReactNode, useContext, useMemo } from 'react';
import { type Api, createApi } from './client';
import { useSession } from '../auth/session';

const ApiContext = createContext<Api | null>(null);

/** The API as the signed-in user. */
export function ApiProvider(props: { children: ReactNode; api?: Api }) {
  const session = useSession();
  const api = useMemo(() => props.api ?? createApi(() => session.getToken()), [props.api, session]);
  return <ApiContext.Provider value={api}>{props.children}</ApiContext.Provider>;
}

export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) {
    throw new Error('useApi outside ApiProvider');
  }
  return api;
}
