import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  createRemoteJWKSet,
  decodeJwt,
  errors,
  jwksCache,
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
  /**
   * Verified tokens kept in memory (keyed by the SHA-256 of the token) so a caller's repeated requests skip the
   * RS256 verification; `false` verifies every request. Defaults: 10 000 entries, 5 minutes.
   */
  cache?: { maxEntries: number; maxAgeMs: number } | false;
  /** How long a fetched JWKS is used before it is fetched again. Default 1 hour. */
  jwksMaxAgeMs?: number;
  /** Shortest time between two JWKS fetches caused by an unknown `kid`. Default 30 s. */
  jwksCooldownMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

export const DEFAULT_TOKEN_CACHE = { maxEntries: 10_000, maxAgeMs: 300_000 } as const;

interface CachedCaller {
  caller: Caller;
  /** Never later than the token's `exp`. */
  expiresAtMs: number;
  /** The JWKS fetch the token was verified against (its time); a later fetch invalidates the entry. */
  jwksFetchedAt: number | undefined;
}

/** A fresh copy for each request, so nothing a request does to its caller reaches the next one. */
function copyCaller(caller: Caller): Caller {
  return { actor: { ...caller.actor }, roles: new Set(caller.roles), tenantId: caller.tenantId };
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
 *
 * Tokens that passed are remembered by their SHA-256 (never the token itself), bounded in number, and served
 * again only while all of these hold: the token has not expired (its `exp`, without clock tolerance), the entry
 * is younger than `cache.maxAgeMs`, and the JWKS it was verified against is still the current one and still
 * fresh. So the cache never makes a key removed from the JWKS live longer than the verifier already lets it
 * (until the next JWKS fetch, at most `jwksMaxAgeMs`): the first fetch after the removal drops every entry.
 * Refusals are never cached.
 */
@Injectable()
export class TokenVerifier {
  private keySet: Promise<JWTVerifyGetKey> | null = null;
  private readonly audiences: string[];
  private readonly cache = new Map<string, CachedCaller>();
  private readonly cacheLimits: { maxEntries: number; maxAgeMs: number } | null;
  /** jose records each successful JWKS fetch here (`uat`, ms since the epoch). */
  private readonly jwksState: { uat?: number } = {};
  private readonly jwksMaxAgeMs: number;
  private readonly now: () => number;
  private hits = 0;
  private misses = 0;

  constructor(private readonly options: TokenVerifierOptions) {
    this.audiences = audienceList(options.audience);
    if (this.audiences.length === 0) {
      throw new Error('AUTH_AUDIENCE has no audience');
    }
    const limits = options.cache === undefined ? DEFAULT_TOKEN_CACHE : options.cache;
    this.cacheLimits = limits === false || limits.maxEntries < 1 || limits.maxAgeMs <= 0 ? null : limits;
    this.jwksMaxAgeMs = options.jwksMaxAgeMs ?? 3_600_000;
    this.now = options.now ?? Date.now;
  }

  /** Entries held, and how many verifications were answered from the cache or not (metrics, tests). */
  cacheStats(): { size: number; hits: number; misses: number } {
    return { size: this.cache.size, hits: this.hits, misses: this.misses };
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
          cooldownDuration: this.options.jwksCooldownMs ?? 30_000,
          cacheMaxAge: this.jwksMaxAgeMs,
          timeoutDuration: 5000,
          [jwksCache]: this.jwksState as Record<string, never>,
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
    if (this.cacheLimits === null) {
      return this.verifySignatureAndClaims(token);
    }
    const key = createHash('sha256').update(token).digest('base64');
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      const fetchedAt = this.jwksState.uat;
      if (
        now < hit.expiresAtMs &&
        fetchedAt !== undefined &&
        hit.jwksFetchedAt === fetchedAt &&
        now - fetchedAt < this.jwksMaxAgeMs
      ) {
        this.hits += 1;
        return copyCaller(hit.caller);
      }
      this.cache.delete(key);
    }
    this.misses += 1;
    const { caller, exp, jwksFetchedAt } = await this.verifyWithExpiry(token, now);
    if (this.cache.size >= this.cacheLimits.maxEntries) {
      // The oldest entry goes first (a Map iterates in insertion order).
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) {
        this.cache.delete(oldest.value);
      }
    }
    this.cache.set(key, {
      caller: copyCaller(caller),
      expiresAtMs: Math.min(exp * 1000, now + this.cacheLimits.maxAgeMs),
      jwksFetchedAt,
    });
    return caller;
  }

  private async verifySignatureAndClaims(token: string): Promise<Caller> {
    return (await this.verifyWithExpiry(token, this.now())).caller;
  }

  private async verifyWithExpiry(
    token: string,
    now: number,
  ): Promise<{ caller: Caller; exp: number; jwksFetchedAt: number | undefined }> {
    const wrongKind = explainWrongTokenKind(token);
    if (wrongKind !== null) {
      throw new AuthenticationError(wrongKind);
    }
    let payload: JWTPayload;
    // Which JWKS fetch the key came from: jose sets the key set and its fetch time together.
    let jwksFetchedAt: number | undefined;
    try {
      const keys = await this.getKeySet();
      const keyOfThisFetch: JWTVerifyGetKey = async (header, jws) => {
        const key = await keys(header, jws);
        jwksFetchedAt = this.jwksState.uat;
        return key;
      };
      ({ payload } = await jwtVerify(token, keyOfThisFetch, {
        issuer: this.options.issuer,
        audience: this.audiences,
        algorithms: ['RS256'],
        clockTolerance: this.options.clockToleranceSeconds,
        requiredClaims: ['exp'],
        currentDate: new Date(now),
      }));
    } catch (error) {
      throw new AuthenticationError(describeJoseError(error));
    }
    if (isIdToken(payload)) {
      throw new AuthenticationError(ID_TOKEN_MESSAGE);
    }
    // requiredClaims makes jose refuse a token without a numeric exp.
    return { caller: callerFromClaims(payload), exp: payload.exp ?? 0, jwksFetchedAt };
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
