import {
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  WorkloadIdentityCredential,
  type TokenCredential,
} from '@azure/identity';

export interface GraphCredentialOptions {
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  /** PEM file holding the certificate and its private key. */
  certificatePath?: string;
  certificatePassword?: string;
  /** Workload identity (federated) token file, e.g. AKS's projected service account token. */
  federatedTokenFile?: string;
  /** e.g. https://login.microsoftonline.us; defaults to the public cloud (or AZURE_AUTHORITY_HOST). */
  authorityHost?: string;
  /** Client id of a user-assigned managed identity (falls back to `clientId`). */
  managedIdentityClientId?: string;
  /** Defaults to true when `authorityHost` is not a known Microsoft login host (e.g. the simulator). */
  disableInstanceDiscovery?: boolean;
  /** Extra CA certificate (PEM) to trust for the authority, e.g. the simulator's self-signed one. */
  tlsCaCertificate?: string;
}

/** Login hosts of Microsoft's clouds; any other authority needs instance discovery disabled. */
export const MICROSOFT_LOGIN_HOSTS: readonly string[] = [
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
];

export function isMicrosoftAuthorityHost(authorityHost: string): boolean {
  try {
    return MICROSOFT_LOGIN_HOSTS.includes(new URL(authorityHost).hostname.toLowerCase());
  } catch {
    return false;
  }
}

/** The token scope for a Graph root: `<origin>/.default` (national clouds have their own Graph host). */
export function graphScopeFor(baseUrl: string): string {
  return `${new URL(baseUrl).origin}/.default`;
}

function required(value: string | undefined, name: string, kind: string): string {
  if (value === undefined || value === '') {
    throw new Error(`${kind} needs ${name}`);
  }
  return value;
}

/**
 * Builds the credential for Graph from explicit options (the caller maps AZURE_* variables onto them):
 * secret → ClientSecretCredential; certificate → ClientCertificateCredential; federated token file →
 * WorkloadIdentityCredential; otherwise ManagedIdentityCredential (user-assigned when a client id is given).
 * Create it once per process: each instance holds its own token cache.
 */
export function createGraphCredential(opts: GraphCredentialOptions = {}): TokenCredential {
  const authorityHost = opts.authorityHost || undefined;
  const disableInstanceDiscovery =
    opts.disableInstanceDiscovery ??
    (authorityHost !== undefined && !isMicrosoftAuthorityHost(authorityHost));
  const common = {
    ...(authorityHost ? { authorityHost } : {}),
    ...(disableInstanceDiscovery ? { disableInstanceDiscovery: true } : {}),
    ...(opts.tlsCaCertificate ? { tlsOptions: { ca: opts.tlsCaCertificate } } : {}),
  };
  if (opts.clientSecret) {
    const kind = 'ClientSecretCredential';
    return new ClientSecretCredential(
      required(opts.tenantId, 'a tenant id', kind),
      required(opts.clientId, 'a client id', kind),
      opts.clientSecret,
      common,
    );
  }
  if (opts.certificatePath) {
    const kind = 'ClientCertificateCredential';
    return new ClientCertificateCredential(
      required(opts.tenantId, 'a tenant id', kind),
      required(opts.clientId, 'a client id', kind),
      {
        certificatePath: opts.certificatePath,
        ...(opts.certificatePassword ? { certificatePassword: opts.certificatePassword } : {}),
      },
      common,
    );
  }
  if (opts.federatedTokenFile) {
    const kind = 'WorkloadIdentityCredential';
    return new WorkloadIdentityCredential({
      ...common,
      tenantId: required(opts.tenantId, 'a tenant id', kind),
      clientId: required(opts.clientId, 'a client id', kind),
      tokenFilePath: opts.federatedTokenFile,
    });
  }
  const managedClientId = opts.managedIdentityClientId || opts.clientId;
  return managedClientId
    ? new ManagedIdentityCredential({ clientId: managedClientId })
    : new ManagedIdentityCredential();
}

/** The credential's type, for messages ("ClientSecretCredential"); never its contents. */
export function describeCredential(credential: TokenCredential): string {
  const name = (credential as object).constructor?.name;
  return name && name !== 'Object' ? name : 'TokenCredential';
}
