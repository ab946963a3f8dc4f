/** /console/config.json, written by the API from its configuration. */
export type RuntimeConfig = {
  servicePrincipalIds: string[];
  auth:
    | { mode: 'msal'; clientId: string; authority: string; apiScope: string }
    | { mode: 'dev'; identities: { role: string; name: string; token: string }[] }
    | { mode: 'none'; message: string };
};

export async function loadRuntimeConfig(): Promise<RuntimeConfig> {
  const res = await fetch(`${import.meta.env.BASE_URL}config.json`, { cache: 'no-store' });
  if (!res.ok) {
    throw new Error(`The console configuration could not be loaded (HTTP ${res.status}).`);
  }
  return (await res.json()) as RuntimeConfig;
}
