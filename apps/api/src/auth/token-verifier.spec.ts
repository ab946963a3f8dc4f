import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import {
  AuthenticationError,
  TokenVerifier,
  callerFromClaims,
  type TokenVerifierOptions,
} from './token-verifier';
import { Role, hasRole } from './roles';

describe('callerFromClaims (DESIGN section 2: the actor comes from the token)', () => {
  it('a delegated token (scp) is a user named by name', () => {
    const c = callerFromClaims({
      oid: 'u-1',
      scp: 'access_as_user',
      name: 'Ada',
      preferred_username: 'ada@x',
      roles: ['JobControl.Read'],
    });
    expect(c.actor).toEqual({ type: 'user', id: 'u-1', name: 'Ada' });
  });

  it('an app token (no scp) is an app named by azp when it has no name', () => {
    const c = callerFromClaims({ oid: 'sp-1', azp: 'scheduler-app', roles: [] });
    expect(c.actor).toEqual({ type: 'app', id: 'sp-1', name: 'scheduler-app' });
  });

  it('falls back to preferred_username, and refuses a token without oid', () => {
    expect(callerFromClaims({ oid: 'u', scp: 'x', preferred_username: 'p@x' }).actor.name).toBe('p@x');
    expect(() => callerFromClaims({ roles: [] })).toThrow(AuthenticationError);
    // Grants and the audit key on the object id: a subject alone is not enough.
    expect(() => callerFromClaims({ sub: 'abc', roles: ['JobControl.Admin'] })).toThrow(AuthenticationError);
  });

  it('keeps only string roles', () => {
    const c = callerFromClaims({ oid: 'x', roles: ['JobControl.Start', 42, null] });
    expect([...c.roles]).toEqual(['JobControl.Start']);
  });
});

describe('hasRole', () => {
  const caller = (roles: string[]) => callerFromClaims({ oid: 'x', roles });
  it.each([
    [['JobControl.Admin'], Role.Read, true],
    [['JobControl.Admin'], Role.Start, true],
    [['JobControl.Start'], Role.Read, false],
    [['JobControl.Read'], Role.Start, false],
    [['JobControl.Start'], Role.Start, true],
    [[], Role.Read, false],
  ] as const)('%j has %s: %s', (roles, role, expected) => {
    expect(hasRole(caller([...roles]), role)).toBe(expected);
  });
});

/**
 * The cache of verified tokens, against a JWKS served over HTTP whose keys the test adds and removes (a key
 * rotation at the issuer), with tokens signed by those keys.
 */
describe('TokenVerifier: verified tokens are cached, bounded, and never outlive the token or its key', () => {
  const ISSUER = 'https://login.example.test/tenant/v2.0';
  const AUDIENCE = 'api://sync-job-guard';
  interface TestKey {
    kid: string;
    privateKey: CryptoKey;
    jwk: JWK;
  }
  let server: Server;
  let jwksUri: string;
  let published: TestKey[] = [];
  let jwksFetches = 0;

  async function newKey(): Promise<TestKey> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = randomUUID();
    return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
  }

  async function sign(
    key: TestKey,
    claims: Record<string, unknown> = {},
    opts: { expiresAtSeconds?: number } = {},
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ oid: 'caller-1', azp: 'client-1', roles: ['JobControl.Start'], ...claims })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(opts.expiresAtSeconds ?? now + 3600)
      .sign(key.privateKey);
  }

  beforeAll(async () => {
    server = createServer((_req, res) => {
      jwksFetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: published.map((k) => k.jwk) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  let clock: number;
  const verifier = (opts: Partial<TokenVerifierOptions> = {}): TokenVerifier =>
    new TokenVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUri,
      clockToleranceSeconds: 0,
      now: () => clock,
      ...opts,
    });

  let keyA: TestKey;
  beforeEach(async () => {
    clock = Date.now();
    keyA = await newKey();
    published = [keyA];
  });

  it('serves the same token from the cache, each time as a copy', async () => {
    const v = verifier();
    const token = await sign(keyA);
    const first = await v.verify(token);
    (first.roles as Set<string>).add('JobControl.Admin');
    first.actor.name = 'changed by a request';
    const second = await v.verify(token);
    expect(v.cacheStats()).toEqual({ size: 1, hits: 1, misses: 1 });
    expect([...second.roles]).toEqual(['JobControl.Start']);
    expect(second.actor).toEqual({ type: 'app', id: 'caller-1', name: 'client-1' });
  });

  it('never serves a different token from the cache: a changed signature is refused, other claims are read', async () => {
    const v = verifier();
    const token = await sign(keyA);
    await v.verify(token);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    await expect(v.verify(`${header}.${payload}.${flipped}`)).rejects.toThrow('token signature is not valid');
    // The same claims but another caller's oid and roles: its own verification, its own caller.
    const other = await sign(keyA, { oid: 'caller-2', roles: ['JobControl.Read'] });
    const caller = await v.verify(other);
    expect(caller.actor.id).toBe('caller-2');
    expect([...caller.roles]).toEqual(['JobControl.Read']);
    expect(v.cacheStats()).toMatchObject({ size: 2, hits: 0, misses: 3 });
    // Refusals are not cached: the bad token is refused again, through the full check.
    await expect(v.verify(`${header}.${payload}.${flipped}`)).rejects.toThrow('token signature is not valid');
    expect(v.cacheStats().misses).toBe(4);
  });

  it('an entry ends with the token: after exp the token is refused, not served from the cache', async () => {
    const v = verifier();
    const exp = Math.floor(clock / 1000) + 60;
    const token = await sign(keyA, {}, { expiresAtSeconds: exp });
    await v.verify(token);
    clock = exp * 1000 - 1;
    await expect(v.verify(token)).resolves.toMatchObject({ actor: { id: 'caller-1' } });
    expect(v.cacheStats().hits).toBe(1);
    clock = exp * 1000;
    await expect(v.verify(token)).rejects.toThrow('token expired');
    expect(v.cacheStats()).toMatchObject({ hits: 1, misses: 2, size: 0 });
  });

  it('an entry lives at most maxAgeMs even when the token lives longer', async () => {
    const v = verifier({ cache: { maxEntries: 10, maxAgeMs: 5_000 } });
    const token = await sign(keyA);
    await v.verify(token);
    clock += 4_999;
    await v.verify(token);
    expect(v.cacheStats()).toMatchObject({ hits: 1, misses: 1 });
    clock += 1;
    await v.verify(token);
    expect(v.cacheStats()).toMatchObject({ hits: 1, misses: 2 });
  });

  it('holds at most maxEntries tokens, dropping the oldest first', async () => {
    const v = verifier({ cache: { maxEntries: 3, maxAgeMs: 60_000 } });
    const tokens = await Promise.all([1, 2, 3, 4, 5].map((i) => sign(keyA, { oid: `caller-${i}` })));
    for (const t of tokens) {
      await v.verify(t);
      expect(v.cacheStats().size).toBeLessThanOrEqual(3);
    }
    expect(v.cacheStats()).toEqual({ size: 3, hits: 0, misses: 5 });
    // The newest three are held; the first was dropped and is verified again.
    await v.verify(tokens[4] as string);
    await v.verify(tokens[2] as string);
    expect(v.cacheStats()).toMatchObject({ hits: 2, misses: 5 });
    await v.verify(tokens[0] as string);
    expect(v.cacheStats()).toMatchObject({ hits: 2, misses: 6, size: 3 });
  });

  it('a key removed from the JWKS stops being honoured at the next JWKS fetch, cached tokens included', async () => {
    const v = verifier({ jwksCooldownMs: 0 });
    const token = await sign(keyA);
    await v.verify(token);
    await v.verify(token);
    expect(v.cacheStats()).toMatchObject({ hits: 1, misses: 1 });
    // The issuer rotates: key A is withdrawn, key B published. A token signed by B makes the verifier fetch
    // the JWKS again (unknown kid).
    const keyB = await newKey();
    published = [keyB];
    const fetchesBefore = jwksFetches;
    await expect(v.verify(await sign(keyB, { oid: 'caller-b' }))).resolves.toMatchObject({
      actor: { id: 'caller-b' },
    });
    expect(jwksFetches).toBe(fetchesBefore + 1);
    await expect(v.verify(token)).rejects.toThrow('token signed with an unknown key');
  });

  it('a JWKS older than jwksMaxAgeMs is fetched again before a cached token is served', async () => {
    const v = verifier({ jwksMaxAgeMs: 1_000 });
    const token = await sign(keyA);
    await v.verify(token);
    published = [];
    const fetchesBefore = jwksFetches;
    clock = Date.now() + 1_000;
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    await expect(v.verify(token)).rejects.toThrow('token signed with an unknown key');
    expect(jwksFetches).toBe(fetchesBefore + 1);
  });

  it('cache: false verifies every time', async () => {
    const v = verifier({ cache: false });
    const token = await sign(keyA);
    await v.verify(token);
    await v.verify(token);
    expect(v.cacheStats()).toEqual({ size: 0, hits: 0, misses: 0 });
  });
});
