import type { ReactElement } from 'react';
import { render } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { FluentProvider, webLightTheme } from '@fluentui/react-components';
import { ApiError, type Api, type ApiResponse } from '../api/client';
import { ApiProvider } from '../api/context';
import { SessionContext } from '../auth/session';
import { LiveProvider } from '../live';
import { RuntimeConfigContext } from '../runtime';

export const ROLES = {
  Admin: ['JobControl.Read', 'JobControl.Start', 'JobControl.Admin'],
  Start: ['JobControl.Read', 'JobControl.Start'],
  Read: ['JobControl.Read'],
};

export interface Call {
  method: string;
  path: string;
  body?: unknown;
  query?: unknown;
}

/**
 * An API that answers from a table of routes (the component tests' stand-in for the HTTP boundary) and records
 * every call. Routes: "GET /v1/attempts" → body, or a function of the call; an ApiError thrown is a refusal.
 */
export function fakeApi(routes: Record<string, unknown>) {
  const calls: Call[] = [];
  const answer = (c: Call): ApiResponse<unknown> => {
    calls.push(c);
    const route = routes[`${c.method} ${c.path}`];
    if (route === undefined) {
      throw new ApiError(404, `no route ${c.method} ${c.path}`, null);
    }
    const r = typeof route === 'function' ? (route as (c: Call) => unknown)(c) : route;
    return r !== null && typeof r === 'object' && 'status' in r && 'body' in r
      ? (r as ApiResponse<unknown>)
      : { status: 200, body: r };
  };
  // Like the real client: get, post and del refuse a 4xx/5xx answer with the API's message; send returns it.
  const ok = (r: ApiResponse<unknown>): unknown => {
    if (r.status >= 400) {
      const m = (r.body as { message?: unknown } | null)?.message;
      throw new ApiError(r.status, typeof m === 'string' ? m : `The API answered ${r.status}`, r.body);
    }
    return r.body;
  };
  const api: Api = {
    get: <T,>(path: string, query?: unknown) =>
      Promise.resolve().then(() => ok(answer({ method: 'GET', path, query })) as T),
    send: <T,>(method: 'POST' | 'DELETE', path: string, body?: unknown) =>
      Promise.resolve().then(() => answer({ method, path, body }) as ApiResponse<T>),
    post: <T,>(path: string, body?: unknown) =>
      Promise.resolve().then(() => ok(answer({ method: 'POST', path, body })) as T),
    del: (path: string) => Promise.resolve().then(() => void ok(answer({ method: 'DELETE', path }))),
    blob: (path: string) =>
      Promise.resolve().then(() => new Blob([JSON.stringify(answer({ method: 'GET', path }).body)])),
  };
  return { api, calls };
}

export function renderWith(
  ui: ReactElement,
  opts: { api: Api; roles: string[]; path?: string; servicePrincipalIds?: string[]; userId?: string },
) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <FluentProvider theme={webLightTheme}>
      <QueryClientProvider client={client}>
        <RuntimeConfigContext.Provider
          value={{
            servicePrincipalIds: opts.servicePrincipalIds ?? [],
            auth: { mode: 'dev', identities: [] },
          }}
        >
          <MemoryRouter initialEntries={[opts.path ?? '/']}>
            <SessionContext.Provider
              value={{
                name: 'Test user',
                id: opts.userId ?? 'test-user-oid',
                roles: opts.roles,
                getToken: () => Promise.resolve('t'),
              }}
            >
              <LiveProvider>
                <ApiProvider api={opts.api}>{ui}</ApiProvider>
              </LiveProvider>
            </SessionContext.Provider>
          </MemoryRouter>
        </RuntimeConfigContext.Provider>
      </QueryClientProvider>
    </FluentProvider>,
  );
}
