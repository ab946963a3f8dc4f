import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, importJWK, type JWK, type CryptoKey } from 'jose';

/**
 * A development token issuer: an RSA key generated at start, its JWKS and OpenID configuration served on
 * loopback, and tokens shaped like Entra ID v2 access tokens. Used by `npm start` (only when no AUTH_* is
 * configured) and by the tests, so both exercise the same verification path as production.
 */
export interface DevTokenClaims {
  oid?: string;
  roles?: string[];
  name?: string;
  /** Delegated token (user) when set. */
  scp?: string;
  /** Seconds from now. Negative for an expired token. */
  expiresIn?: number;
  notBefore?: number;
  issuer?: string;
  audience?: string;
  kid?: string;
  extra?: Record<string, unknown>;
}

export interface DevIssuer {
  issuer: string;
  audience: string;
  jwksUri: string;
  sign(claims?: DevTokenClaims): Promise<string>;
  /** Adds a second key to the JWKS (key rotation) and returns its kid. */
  rotate(): Promise<string>;
  close(): Promise<void>;
}

export const DEV_TENANT_ID = '00000000-0000-4000-8000-00000000d0e0';
export const DEV_AUDIENCE = 'api://sync-job-guard';
/** The development client (the `azp` of development tokens). */
export const DEV_CLIENT_ID = '00000000-0000-4000-8000-00000000c11e';
export const ALL_ROLES = ['JobControl.Read', 'JobControl.Start', 'JobControl.Admin'];

interface Key {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function newKey(): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, jwk };
}

/**
 * The development signing key, kept in a file (mode 0600, under .data/) so that tokens survive a restart.
 * Created on first use.
 */
export async function loadOrCreateKey(file: string): Promise<Key> {
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { kid: string; privateJwk: JWK };
    const privateKey = (await importJWK(saved.privateJwk, 'RS256', { extractable: true })) as CryptoKey;
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = saved.privateJwk;
    return { kid: saved.kid, privateKey, jwk: { ...publicJwk, kid: saved.kid, alg: 'RS256', use: 'sig' } };
  }
  const key = await newKey();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ kid: key.kid, privateJwk: await exportJWK(key.privateKey) }), {
    mode: 0o600,
  });
  chmodSync(file, 0o600);
  return key;
}

/** The issuer of development tokens when it must not depend on the port (tokens kept across restarts). */
export const DEV_STABLE_ISSUER = `https://sync-job-guard.localhost/${DEV_TENANT_ID}/v2.0`;

export async function startDevIssuer(
  opts: {
    port?: number;
    /** Listening address; default 127.0.0.1. */
    host?: string;
    audience?: string;
    /** Keep the signing key in this file (created when missing); a new key per start otherwise. */
    keyFile?: string;
    /** The `iss` of the tokens; defaults to this server's own URL. Use DEV_STABLE_ISSUER with keyFile. */
    issuer?: string;
  } = {},
): Promise<DevIssuer> {
  const keys: Key[] = [opts.keyFile ? await loadOrCreateKey(opts.keyFile) : await newKey()];
  let origin = '';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const send = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === `/${DEV_TENANT_ID}/v2.0/.well-known/openid-configuration`) {
      send({
        issuer: opts.issuer ?? `${origin}/${DEV_TENANT_ID}/v2.0`,
        jwks_uri: `${origin}/${DEV_TENANT_ID}/discovery/v2.0/keys`,
      });
    } else if (path === `/${DEV_TENANT_ID}/discovery/v2.0/keys`) {
      send({ keys: keys.map((k) => k.jwk) });
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = opts.issuer ?? `${origin}/${DEV_TENANT_ID}/v2.0`;
  const audience = opts.audience ?? DEV_AUDIENCE;
  return {
    issuer,
    audience,
    jwksUri: `${origin}/${DEV_TENANT_ID}/discovery/v2.0/keys`,
    async sign(claims: DevTokenClaims = {}) {
      const key = claims.kid ? keys.find((k) => k.kid === claims.kid) : keys[keys.length - 1];
      const signing = key ?? keys[0];
      if (!signing) {
        throw new Error('no signing key');
      }
      const now = Math.floor(Date.now() / 1000);
      // Shaped like an Entra ID v2 access token: `azp`/`azpacr` (the client), `ver`, and `idtyp: app` for an
      // app-only token (the optional claim Entra adds when the API asks for it).
      const payload: Record<string, unknown> = {
        oid: claims.oid ?? '11111111-1111-4111-8111-111111111111',
        tid: DEV_TENANT_ID,
        roles: claims.roles ?? ALL_ROLES,
        azp: DEV_CLIENT_ID,
        azpacr: '1',
        ver: '2.0',
        ...(claims.name !== undefined ? { name: claims.name } : {}),
        ...(claims.scp !== undefined ? { scp: claims.scp } : { idtyp: 'app' }),
        ...claims.extra,
      };
      const jwt = new SignJWT(payload)
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: claims.kid ?? signing.kid })
        .setIssuer(claims.issuer ?? issuer)
        .setAudience(claims.audience ?? audience)
        .setIssuedAt(now)
        .setExpirationTime(now + (claims.expiresIn ?? 3600));
      if (claims.notBefore !== undefined) {
        jwt.setNotBefore(now + claims.notBefore);
      }
      return jwt.sign(signing.privateKey);
    },
    async rotate() {
      const key = await newKey();
      keys.push(key);
      return key.kid;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
