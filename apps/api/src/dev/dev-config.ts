import { type AppConfig, loadConfig } from '../config/app-config';
import { DEV_AUDIENCE, DEV_STABLE_ISSUER } from './dev-issuer';

export type Env = Record<string, string | undefined>;

/** True when `npm start` serves Graph from the built-in simulator (no credentials, or GRAPH_MODE=simulator). */
export function usesSimulator(env: Env): boolean {
  const hasCredentials = Boolean(
    env.AZURE_CLIENT_ID &&
    (env.AZURE_CLIENT_SECRET || env.AZURE_CLIENT_CERTIFICATE_PATH || env.AZURE_FEDERATED_TOKEN_FILE),
  );
  return env.GRAPH_MODE === 'simulator' || (!env.GRAPH_MODE && !hasCredentials);
}

/** The configuration as it will be, with placeholders for what the launcher itself supplies. */
export function precheckConfig(env: Env): AppConfig {
  const placeholders: Env = {
    ...(env.DATABASE_URL ? {} : { DATABASE_URL: 'postgresql://launcher@127.0.0.1:1/embedded' }),
    ...(usesSimulator(env)
      ? {
          GRAPH_MODE: 'simulator',
          GRAPH_BASE_URL: 'http://127.0.0.1:1/v1.0',
          AZURE_AUTHORITY_HOST: 'https://127.0.0.1:1',
          AZURE_TENANT_ID: 'simulator',
          AZURE_CLIENT_ID: 'simulator',
          AZURE_CLIENT_SECRET: 'simulator',
        }
      : {}),
    ...(env.AUTH_ISSUER
      ? {}
      : {
          AUTH_ISSUER: DEV_STABLE_ISSUER,
          AUTH_AUDIENCE: DEV_AUDIENCE,
          AUTH_JWKS_URI: 'http://127.0.0.1:1/keys',
        }),
  };
  return loadConfig({ ...env, ...placeholders });
}
