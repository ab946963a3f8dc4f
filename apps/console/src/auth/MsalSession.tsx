import { type ReactNode, useEffect, useMemo, useState } from 'react';
import {
  type AccountInfo,
  InteractionRequiredAuthError,
  InteractionStatus,
  PublicClientApplication,
} from '@azure/msal-browser';
import { MsalProvider, useMsal } from '@azure/msal-react';
import { Spinner } from '@fluentui/react-components';
import { oidOfToken, rolesOfToken } from './roles';
import { type Session, SessionContext } from './session';

export interface MsalSettings {
  clientId: string;
  authority: string;
  apiScope: string;
}

/** Production: Entra ID sign-in with the authorization code flow and PKCE (MSAL), redirect based. */
export async function createMsal(settings: MsalSettings): Promise<PublicClientApplication> {
  const pca = new PublicClientApplication({
    auth: {
      clientId: settings.clientId,
      authority: settings.authority,
      redirectUri: `${window.location.origin}${import.meta.env.BASE_URL}`,
      postLogoutRedirectUri: `${window.location.origin}${import.meta.env.BASE_URL}`,
    },
    cache: { cacheLocation: 'sessionStorage' },
  });
  await pca.initialize();
  const result = await pca.handleRedirectPromise();
  if (result?.account) {
    pca.setActiveAccount(result.account);
  } else if (!pca.getActiveAccount()) {
    const first = pca.getAllAccounts()[0];
    if (first) {
      pca.setActiveAccount(first);
    }
  }
  return pca;
}

function Inner(props: { settings: MsalSettings; children: ReactNode }) {
  const { instance, inProgress } = useMsal();
  const account: AccountInfo | null = instance.getActiveAccount();
  const [claims, setClaims] = useState<{ roles: string[]; id: string | null } | null>(null);
  const scopes = useMemo(() => [props.settings.apiScope], [props.settings.apiScope]);

  useEffect(() => {
    if (!account && inProgress === InteractionStatus.None) {
      void instance.loginRedirect({ scopes });
    }
  }, [account, inProgress, instance, scopes]);

  const session = useMemo<Session | null>(() => {
    if (!account) {
      return null;
    }
    const getToken = async () => {
      try {
        const r = await instance.acquireTokenSilent({ account, scopes });
        return r.accessToken;
      } catch (error) {
        if (error instanceof InteractionRequiredAuthError) {
          await instance.acquireTokenRedirect({ account, scopes });
        }
        throw error;
      }
    };
    return {
      name: account.name ?? account.username,
      // The API records the access token's oid; the account's local id is the same object id.
      id: claims?.id ?? (account.localAccountId || null),
      roles: claims?.roles ?? [],
      getToken,
      signOut: () => void instance.logoutRedirect({ account }),
    };
  }, [account, instance, scopes, claims]);

  useEffect(() => {
    if (session && claims === null) {
      session.getToken().then(
        (t) => setClaims({ roles: rolesOfToken(t), id: oidOfToken(t) }),
        () => setClaims({ roles: [], id: null }),
      );
    }
  }, [session, claims]);

  if (!session || claims === null) {
    return <Spinner label="Signing in with Microsoft Entra ID…" />;
  }
  return <SessionContext.Provider value={session}>{props.children}</SessionContext.Provider>;
}

export function MsalSession(props: {
  pca: PublicClientApplication;
  settings: MsalSettings;
  children: ReactNode;
}) {
  return (
    <MsalProvider instance={props.pca}>
      <Inner settings={props.settings}>{props.children}</Inner>
    </MsalProvider>
  );
}
