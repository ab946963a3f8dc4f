import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import { TLSSocket } from 'node:tls';
import { faultActionOf, type ActiveFault } from './faults';
import type { SimContext } from './sim-context';
import { logRequest, readBody, sendJson, sleep } from './sim-http';

/** Entra ID v2's client-credentials token endpoint, its OpenID configuration and instance discovery. */

interface AadFailure {
  status: number;
  error: string;
  aadsts: number;
  description: string;
}

function aadError(res: http.ServerResponse, failure: AadFailure): void {
  const traceId = randomUUID();
  sendJson(res, failure.status, {
    error: failure.error,
    error_description: `AADSTS${failure.aadsts}: ${failure.description} Trace ID: ${traceId} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
    error_codes: [failure.aadsts],
    timestamp: new Date().toISOString(),
    trace_id: traceId,
    correlation_id: randomUUID(),
  });
}

/** The scheme and host the caller used (the port speaks both HTTP and HTTPS). */
export function authorityOf(ctx: SimContext, req: http.IncomingMessage): string {
  const scheme = req.socket instanceof TLSSocket ? 'https' : 'http';
  return `${scheme}://${req.headers.host ?? `${ctx.host}:${ctx.port}`}`;
}

/** Why Entra ID would refuse this client-credentials request, or null when it issues a token. */
function refusalOf(ctx: SimContext, tenant: string, form: URLSearchParams): AadFailure | null {
  if (tenant.toLowerCase() !== ctx.tenantId.toLowerCase()) {
    return {
      status: 400,
      error: 'invalid_request',
      aadsts: 90002,
      description: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    };
  }
  if (form.get('grant_type') !== 'client_credentials') {
    return {
      status: 400,
      error: 'unsupported_grant_type',
      aadsts: 70003,
      description: 'The app requested an unsupported grant type.',
    };
  }
  if (form.get('client_id') !== ctx.clientId) {
    return {
      status: 400,
      error: 'unauthorized_client',
      aadsts: 700016,
      description: `Application with identifier '${form.get('client_id') ?? ''}' was not found in the directory.`,
    };
  }
  const secret = form.get('client_secret');
  // A client assertion (certificate / workload identity) is accepted without checking its signature.
  if (secret !== null ? secret !== ctx.clientSecret : form.get('client_assertion') === null) {
    return {
      status: 401,
      error: 'invalid_client',
      aadsts: 7000215,
      description:
        'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
    };
  }
  const scope = form.get('scope') ?? '';
  if (!scope.split(' ').some((s) => s.endsWith('/.default'))) {
    return {
      status: 400,
      error: 'invalid_scope',
      aadsts: 1002012,
      description: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.`,
    };
  }
  return null;
}

/** Applies a fault rule to the token request; true when it ended the exchange (dropped, hung or answered). */
async function applyTokenFault(
  fault: ActiveFault,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  log: (status: number | 'dropped' | 'hang') => void,
): Promise<boolean> {
  if (fault.latencyMs) {
    await sleep(fault.latencyMs);
  }
  const action = faultActionOf(fault);
  if (action === 'dropBefore' || action === 'dropAfter') {
    log('dropped');
    req.socket.destroy();
    return true;
  }
  if (action === 'hang') {
    log('hang');
    return true;
  }
  if (action === 'respond') {
    log(fault.status ?? 500);
    aadError(res, {
      status: fault.status ?? 500,
      error: fault.code ?? 'temporarily_unavailable',
      aadsts: 50000,
      description: fault.message ?? 'The service is temporarily unavailable.',
    });
    return true;
  }
  return false;
}

export async function handleToken(
  ctx: SimContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  tenant: string,
): Promise<void> {
  const { state } = ctx;
  const form = new URLSearchParams(await readBody(req));
  state.mutableCounters.tokenRequests += 1;
  const path = `/${tenant}/oauth2/v2.0/token`;
  const target = { method: 'POST', path, operation: 'token' as const, servicePrincipalId: null, jobId: null };
  const fault = state.takeFault({ ...target, viaBatch: false });
  const log = (status: number | 'dropped' | 'hang'): void =>
    logRequest(state, {
      ...target,
      status,
      viaBatch: false,
      clientRequestId: form.get('client-request-id'),
      requestId: randomUUID(),
      faultId: fault?.id ?? null,
    });
  if (fault && (await applyTokenFault(fault, req, res, log))) {
    return;
  }
  const refusal = refusalOf(ctx, tenant, form);
  if (refusal) {
    log(refusal.status);
    aadError(res, refusal);
    return;
  }
  const issued = state.issueToken();
  log(200);
  sendJson(res, 200, {
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
    ext_expires_in: issued.expiresIn,
    access_token: issued.token,
  });
}

export function openIdConfiguration(
  ctx: SimContext,
  req: http.IncomingMessage,
  tenant: string,
): Record<string, unknown> {
  const a = authorityOf(ctx, req);
  return {
    token_endpoint: `${a}/${tenant}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${a}/${tenant}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${a}/${tenant}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${ctx.origin}/oidc/userinfo`,
    authorization_endpoint: `${a}/${tenant}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${a}/${tenant}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${a}/${tenant}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'oid'],
    tenant_region_scope: 'WW',
    cloud_instance_name: 'graph-simulator',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: new URL(ctx.origin).host,
    rbac_url: 'https://pas.windows.net',
  };
}

/** MSAL's instance discovery (`/common/discovery/instance`). */
export function instanceDiscovery(ctx: SimContext, req: http.IncomingMessage): Record<string, unknown> {
  const a = authorityOf(ctx, req);
  return {
    tenant_discovery_endpoint: `${a}/${ctx.tenantId}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [
      {
        preferred_network: new URL(a).host,
        preferred_cache: new URL(a).host,
        aliases: [new URL(a).host],
      },
    ],
  };
}
