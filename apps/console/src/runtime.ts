import { createContext, useContext } from 'react';
import type { RuntimeConfig } from './auth/runtime-config';

export const RuntimeConfigContext = createContext<RuntimeConfig>({
  servicePrincipalIds: [],
  auth: { mode: 'none', message: '' },
});

export function useRuntimeConfig(): RuntimeConfig {
  return useContext(RuntimeConfigContext);
}
