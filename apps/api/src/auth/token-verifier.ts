import { Injectable } from '@nestjs/common';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Actor } from '@app/common';
import type { Caller } from './roles';

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
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

/** Verifies Entra ID v2 access tokens: RS256 signatures from the JWKS, issuer, audience, exp and nbf. */
@Injectable()
export class TokenVerifier {
  private keySet: Promise<JWTVerifyGetKey> | null = null;

  constructor(private readonly options: TokenVerifierOptions) {}

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
    let payload: JWTPayload;
    try {
      const keys = await this.getKeySet();
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: ['RS256'],
        clockTolerance: this.options.clockToleranceSeconds,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      throw new AuthenticationError(describeJoseError(error));
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
