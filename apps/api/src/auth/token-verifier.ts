import { Injectable } from '@nestjs/common';
import {
  createRemoteJWKSet,
  decodeJwt,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { Actor } from '@app/common';
import type { Caller } from './roles';

export interface TokenVerifierOptions {
  issuer: string;
  /**
   * Accepted `aud` values: the API's application (client) id GUID (what Entra ID v2 access tokens carry) and/or
   * its App ID URI; a comma-separated string or a list.
   */
  audience: string | readonly string[];
  /** JWKS location; when absent it is discovered from the issuer's OpenID configuration. */
  jwksUri: string | null;
  clockToleranceSeconds: number;
}

export class AuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

/** Splits AUTH_AUDIENCE: a comma-separated list (e.g. the client id and the App ID URI). */
export function audienceList(audience: string | readonly string[]): string[] {
  const items = typeof audience === 'string' ? audience.split(',') : [...audience];
  return items.map((a) => a.trim()).filter((a) => a.length > 0);
}

export const V1_TOKEN_MESSAGE =
  'Entra ID v1 access token (issuer https://sts.windows.net/...) refused: this API accepts v2 tokens only; ' +
  'set "requestedAccessTokenVersion": 2 in the API app registration\'s manifest (api section), then get a new token';

export const ID_TOKEN_MESSAGE =
  'an ID token is not an access token: request an access token for this API ' +
  '(scope "<App ID URI>/.default" for a daemon, or one of its delegated scopes for a person)';

/**
 * Pre-checks on the unverified claims, only to explain a refusal that the signature or claim checks would
 * otherwise report obscurely: a v1 access token (wrong issuer) and an ID token (no authorised party).
 */
function explainWrongTokenKind(token: string): string | null {
  let claims: JWTPayload;
  try {
    claims = decodeJwt(token);
  } catch {
    return null;
  }
  if (
    claims.ver === '1.0' ||
    (typeof claims.iss === 'string' && claims.iss.startsWith('https://sts.windows.net/'))
  ) {
    return V1_TOKEN_MESSAGE;
  }
  return null;
}

/**
 * Entra ID v2 access tokens always name the authorised party (`azp`, the client that asked for the token);
 * ID tokens never do, and carry sign-in proofs (`nonce`, `at_hash`, `c_hash`) that access tokens never carry.
 */
function isIdToken(payload: JWTPayload): boolean {
  return (
    payload.azp === undefined ||
    payload.nonce !== undefined ||
    payload.at_hash !== undefined ||
    payload.c_hash !== undefined
  );
}

/**
 * Verifies Entra ID v2 access tokens: RS256 signatures from the JWKS, issuer, audience (any of the configured
 * ones), exp and nbf; v1 access tokens and ID tokens are refused with a message that says what to change.
 */
@Injectable()
export class TokenVerifier {
  private keySet: Promise<JWTVerifyGetKey> | null = null;
  private readonly audiences: string[];

  constructor(private readonly options: TokenVerifierOptions) {
    this.audiences = audienceList(options.audience);
    if (this.audiences.length === 0) {
      throw new Error('AUTH_AUDIENCE has no audience');
    }
  }

  private async discoverJwksUri(): Promise<string> {
    const url = `${this.options.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) {
      throw new Error(`OpenID configuration at ${url} answered ${response.status}`);
    }
    const body = (await response.json()) as { jwks_uri?: unknown };
    if (typeof body.jwks_uri !== 'string') {
      throw new Error(`OpenID configuration at ${url} has no jwks_uri`);
    }
    return body.jwks_uri;
  }

  private getKeySet(): Promise<JWTVerifyGetKey> {
    if (!this.keySet) {
      const pending = (async () => {
        const uri = this.options.jwksUri ?? (await this.discoverJwksUri());
        // Keys are cached; an unknown `kid` triggers a refetch (at most every 30 s).
        return createRemoteJWKSet(new URL(uri), {
          cooldownDuration: 30_000,
          cacheMaxAge: 3_600_000,
          timeoutDuration: 5000,
        });
      })();
      pending.catch(() => {
        this.keySet = null;
      });
      this.keySet = pending;
    }
    return this.keySet;
  }

  async verify(token: string): Promise<Caller> {
    const wrongKind = explainWrongTokenKind(token);
    if (wrongKind !== null) {
      throw new AuthenticationError(wrongKind);
    }
    let payload: JWTPayload;
    try {
      const keys = await this.getKeySet();
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.options.issuer,
        audience: this.audiences,
        algorithms: ['RS256'],
        clockTolerance: this.options.clockToleranceSeconds,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      throw new AuthenticationError(describeJoseError(error));
    }
    if (isIdToken(payload)) {
      throw new AuthenticationError(ID_TOKEN_MESSAGE);
    }
    return callerFromClaims(payload);
  }
}

function describeJoseError(error: unknown): string {
  if (error instanceof errors.JWTExpired) {
    return 'token expired';
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return `token claim "${error.claim}" is not valid`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return 'token algorithm not allowed (RS256 only)';
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return 'token signed with an unknown key';
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return 'token signature is not valid';
  }
  if (error instanceof errors.JOSEError) {
    return 'token is not valid';
  }
  return 'token could not be verified';
}

function claimString(payload: JWTPayload, key: string): string | null {
  const v = payload[key];
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/** DESIGN section 2: actor id from `oid`, type `user` when delegated (`scp`), name from name/preferred_username/azp. */
export function callerFromClaims(payload: JWTPayload): Caller {
  // Grants and the audit key on the object id; a token without one cannot be attributed.
  const oid = claimString(payload, 'oid');
  if (!oid) {
    throw new AuthenticationError('token has no oid claim');
  }
  const actor: Actor = {
    type: payload.scp !== undefined ? 'user' : 'app',
    id: oid,
    name:
      claimString(payload, 'name') ??
      claimString(payload, 'preferred_username') ??
      claimString(payload, 'azp'),
  };
  const roles = Array.isArray(payload.roles)
    ? payload.roles.filter((r): r is string => typeof r === 'string')
    : [];
  return { actor, roles: new Set(roles), tenantId: claimString(payload, 'tid') };
}
