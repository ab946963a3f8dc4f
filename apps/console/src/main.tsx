import { StrictMode, useEffect, useState, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { FluentProvider, webDarkTheme, webLightTheme } from '@fluentui/react-components';
import { App } from './App';
import { ApiProvider } from './api/context';
import { DevSession } from './auth/DevSession';
import { loadRuntimeConfig, type RuntimeConfig } from './auth/runtime-config';
import { ErrorBox, Loading } from './components/states';
import { LiveProvider } from './live';
import { RuntimeConfigContext } from './runtime';

/** Follows the operating system's light or dark setting, live. */
function useDarkMode(): boolean {
  const query = '(prefers-color-scheme: dark)';
  const [dark, setDark] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const m = window.matchMedia(query);
    const on = (e: MediaQueryListEvent) => setDark(e.matches);
    m.addEventListener('change', on);
    return () => m.removeEventListener('change', on);
  }, []);
  return dark;
}

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: 1, staleTime: 5_000, refetchOnWindowFocus: false } },
});

type MsalModule = typeof import('./auth/MsalSession');

function SignedIn(props: { config: RuntimeConfig; children: ReactNode }) {
  const { auth } = props.config;
  const [msal, setMsal] = useState<{
    m: MsalModule;
    pca: Awaited<ReturnType<MsalModule['createMsal']>>;
  } | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (auth.mode !== 'msal') {
      return;
    }
    // MSAL is loaded only where it is used (production sign-in), once.
    import('./auth/MsalSession')
      .then(async (m) => setMsal({ m, pca: await m.createMsal(auth) }))
      .catch(setError);
  }, [auth]);
  if (auth.mode === 'dev') {
    return <DevSession identities={auth.identities}>{props.children}</DevSession>;
  }
  if (auth.mode === 'none') {
    return <ErrorBox title="Sign-in is not configured" error={new Error(auth.message)} />;
  }
  if (error) {
    return <ErrorBox title="Sign-in failed" error={error} />;
  }
  if (!msal) {
    return <Loading label="Signing in…" />;
  }
  return (
    <msal.m.MsalSession pca={msal.pca} settings={auth}>
      {props.children}
    </msal.m.MsalSession>
  );
}

function Root() {
  const dark = useDarkMode();
  const [config, setConfig] = useState<RuntimeConfig | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    loadRuntimeConfig().then(setConfig, setError);
  }, []);
  return (
    <FluentProvider theme={dark ? webDarkTheme : webLightTheme} style={{ minHeight: '100vh' }}>
      <QueryClientProvider client={queryClient}>
        {error ? (
          <ErrorBox title="The console could not start" error={error} />
        ) : !config ? (
          <Loading />
        ) : (
          <RuntimeConfigContext.Provider value={config}>
            <BrowserRouter basename="/console">
              <LiveProvider>
                <SignedIn config={config}>
                  <ApiProvider>
                    <App />
                  </ApiProvider>
                </SignedIn>
              </LiveProvider>
            </BrowserRouter>
          </RuntimeConfigContext.Provider>
        )}
      </QueryClientProvider>
    </FluentProvider>
  );
}

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <Root />
    </StrictMode>,
  );
}
