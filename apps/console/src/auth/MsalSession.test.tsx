import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/react';
import { useQuery, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { FluentProvider, webLightTheme } from '@fluentui/react-components';
import type { NavigationClient, NavigationOptions } from '@azure/msal-browser';
import { ApiProvider, useApi } from '../api/context';
import { useSession } from './session';
import { createMsal, MsalSession, type MsalSettings } from './MsalSession';

/**
 * Production sign-in with @azure/msal-browser's real PublicClientApplication: authorization code flow with PKCE
 * against an Entra ID authority whose network answers (metadata, token endpoint) and browser navigation are the
 * only stand-ins, then the acquired access token on every /v1 call.
 */
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const AUTHORITY = `https://login.microsoftonline.com/${TENANT}`;
const SETTINGS: MsalSettings = {
  clientId: '5b1d9a3c-7e2f-4a6b-9c8d-0e1f2a3b4c5d',
  authority: AUTHORITY,
  apiScope: 'api://sync-job-guard/JobControl',
};
/** Where the console is served (/console/ in the build); MSAL's redirect URI. */
const BASE = import.meta.env.BASE_URL;
const USER_OID = '9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4';

const b64url = (s: string) => btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const jwt = (claims: object) =>
  `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.c2ln`;

const METADATA = {
  issuer: `${AUTHORITY}/v2.0`,
  authorization_endpoint: `${AUTHORITY}/oauth2/v2.0/authorize`,
  token_endpoint: `${AUTHORITY}/oauth2/v2.0/token`,
  end_session_endpoint: `${AUTHORITY}/oauth2/v2.0/logout`,
  jwks_uri: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
  response_modes_supported: ['query', 'fragment', 'form_post'],
};

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

async function sha256b64url(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return b64url(String.fromCharCode(...new Uint8Array(digest)));
}

function Probe() {
  const session = useSession();
  const api = useApi();
  const q = useQuery({ queryKey: ['probe'], queryFn: () => api.get<{ items: unknown[] }>('/v1/approvals') });
  return (
    <p>
      {session.name} | {session.id} | {session.roles.join(',')} |{' '}
      {q.data ? `${q.data.items.length} items` : '…'}
    </p>
  );
}

function renderSession(pca: Awaited<ReturnType<typeof createMsal>>) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <FluentProvider theme={webLightTheme}>
      <QueryClientProvider client={client}>
        <MsalSession pca={pca} settings={SETTINGS}>
          <ApiProvider>
            <Probe />
          </ApiProvider>
        </MsalSession>
      </QueryClientProvider>
    </FluentProvider>,
  );
}

describe('MSAL sign-in (production)', () => {
  const seen: Seen[] = [];
  let tokenAnswer: (form: URLSearchParams) => object = () => ({});

  beforeEach(() => {
    seen.length = 0;
    window.history.replaceState(null, '', BASE);
    // The network boundary: Entra ID's metadata and token endpoints, and our own /v1 API.
    vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const headers = Object.fromEntries(new Headers(init?.headers).entries());
      const body = typeof init?.body === 'string' ? init.body : '';
      seen.push({ url, method: init?.method ?? 'GET', headers, body });
      const json = (status: number, value: unknown) =>
        Promise.resolve(
          new Response(JSON.stringify(value), { status, headers: { 'Content-Type': 'application/json' } }),
        );
      if (url.includes('/.well-known/openid-configuration')) {
        return json(200, METADATA);
      }
      if (url.includes('/discovery/instance')) {
        return json(200, {
          tenant_discovery_endpoint: `${AUTHORITY}/v2.0/.well-known/openid-configuration`,
          metadata: [
            {
              preferred_network: 'login.microsoftonline.com',
              preferred_cache: 'login.windows.net',
              aliases: ['login.microsoftonline.com', 'login.windows.net', 'login.microsoft.com'],
            },
          ],
        });
      }
      if (url.split('?')[0] === METADATA.token_endpoint) {
        return json(200, tokenAnswer(new URLSearchParams(body)));
      }
      if (url.includes('/v1/approvals')) {
        return json(200, { items: [] });
      }
      return json(404, { error: 'not_found', url });
    });
  });

  afterEach(() => {
    window.history.replaceState(null, '', '/');
  });

  it('signs in with the authorization code flow and PKCE, then sends the access token to /v1', async () => {
    // 1. First visit: no account, so the session redirects to Entra ID's authorize endpoint.
    const first = await createMsal(SETTINGS);
    expect(first.getConfiguration().auth.clientId).toBe(SETTINGS.clientId);
    expect(first.getConfiguration().auth.authority).toBe(SETTINGS.authority);
    expect(first.getConfiguration().auth.redirectUri).toBe(`${window.location.origin}${BASE}`);
    const navigations: string[] = [];
    const navigation: NavigationClient = {
      navigateExternal: (url: string, _o: NavigationOptions) => {
        navigations.push(url);
        return Promise.resolve(true);
      },
      navigateInternal: (url: string, _o: NavigationOptions) => {
        navigations.push(url);
        return Promise.resolve(true);
      },
    };
    first.setNavigationClient(navigation);
    const { unmount } = renderSession(first);
    await vi.waitFor(() => expect(navigations).toHaveLength(1), { timeout: 10_000 });
    unmount();
    const authorize = new URL(navigations[0] ?? '');
    expect(`${authorize.origin}${authorize.pathname}`).toBe(METADATA.authorization_endpoint);
    const p = authorize.searchParams;
    expect(p.get('client_id')).toBe(SETTINGS.clientId);
    expect(p.get('response_type')).toBe('code');
    expect(p.get('code_challenge_method')).toBe('S256');
    expect(p.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(p.get('redirect_uri')).toBe(`${window.location.origin}${BASE}`);
    expect(p.get('scope')?.split(' ')).toEqual(expect.arrayContaining([SETTINGS.apiScope, 'openid']));
    const state = p.get('state') ?? '';
    const nonce = p.get('nonce') ?? '';

    // 2. Entra ID redirects back with a code; MSAL redeems it with the PKCE verifier at the token endpoint.
    const accessToken = jwt({
      aud: 'api://sync-job-guard',
      iss: `https://sts.windows.net/${TENANT}/`,
      oid: USER_OID,
      roles: ['JobControl.Read', 'JobControl.Start'],
      scp: 'JobControl',
      exp: Math.floor(Date.now() / 1000) + 3600,
    });
    const clientInfo = b64url(JSON.stringify({ uid: USER_OID, utid: TENANT }));
    let redeemed: URLSearchParams | null = null;
    tokenAnswer = (form) => {
      redeemed = form;
      return {
        token_type: 'Bearer',
        scope: `${SETTINGS.apiScope} openid profile offline_access`,
        expires_in: 3600,
        ext_expires_in: 3600,
        access_token: accessToken,
        refresh_token: 'refresh-token',
        id_token: jwt({
          aud: SETTINGS.clientId,
          iss: `${AUTHORITY}/v2.0`,
          tid: TENANT,
          oid: USER_OID,
          sub: 'subject',
          name: 'Ada Operator',
          preferred_username: 'ada@contoso.example',
          nonce,
          iat: Math.floor(Date.now() / 1000),
          exp: Math.floor(Date.now() / 1000) + 3600,
        }),
        client_info: clientInfo,
      };
    };
    const response = new URLSearchParams({ code: 'authorization-code', state, client_info: clientInfo });
    const inQuery = p.get('response_mode') === 'query';
    window.history.replaceState(null, '', `${BASE}${inQuery ? `?${response}` : `#${response}`}`);
    const second = await createMsal(SETTINGS);
    second.setNavigationClient(navigation);
    expect(redeemed).not.toBeNull();
    const form = redeemed as unknown as URLSearchParams;
    expect(form.get('grant_type')).toBe('authorization_code');
    expect(form.get('code')).toBe('authorization-code');
    expect(form.get('client_id')).toBe(SETTINGS.clientId);
    // PKCE: the verifier sent now hashes to the challenge sent with the authorize request.
    expect(await sha256b64url(form.get('code_verifier') ?? '')).toBe(p.get('code_challenge'));
    expect(second.getActiveAccount()?.username).toBe('ada@contoso.example');

    // 3. Signed in: the session reads roles and oid from the access token and sends it on every /v1 call.
    renderSession(second);
    await screen.findByText(`Ada Operator | ${USER_OID} | JobControl.Read,JobControl.Start | 0 items`);
    const calls = seen.filter((s) => s.url.includes('/v1/'));
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls) {
      expect(c.headers.authorization).toBe(`Bearer ${accessToken}`);
    }
    expect(navigations).toHaveLength(1); // no second sign-in
  });
});
