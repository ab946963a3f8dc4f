import type { AccessToken, TokenCredential } from '@azure/identity';
import { GraphError } from './graph-client';
import type { GraphLogger } from './graph-observer';

/**
 * Bearer tokens for Graph from an @azure/identity credential, kept in the client: the credential is asked only
 * when the kept token is close to expiry or Graph refused it, and concurrent callers share one acquisition.
 */

/** A kept token is renewed this long before it expires (or at half its remaining life when that is shorter). */
export const TOKEN_RENEW_BEFORE_EXPIRY_MS = 5 * 60_000;

/** `promise`, or a rejection once `ms` have passed (the promise itself keeps running for whoever else waits). */
function withinMs<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the shared token request did not finish within this call's ${ms} ms`)),
      Math.max(1, ms),
    );
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/**
 * When a token got at `now` should be renewed: 5 min before it expires, or halfway through its remaining life
 * when that is sooner, or at the credential's own `refreshAfterTimestamp` when that is sooner still.
 */
export function renewAt(token: AccessToken, now: number): number {
  const remaining = Math.max(0, token.expiresOnTimestamp - now);
  let at = token.expiresOnTimestamp - Math.min(TOKEN_RENEW_BEFORE_EXPIRY_MS, remaining / 2);
  if (token.refreshAfterTimestamp !== undefined && token.refreshAfterTimestamp < at) {
    at = token.refreshAfterTimestamp;
  }
  return at;
}

export interface GraphTokenSourceOptions {
  credential: TokenCredential;
  scope: string;
  /** The credential's type, the only thing about it errors name. */
  credentialType: string;
  logger?: GraphLogger | undefined;
  /** Metrics hook: one call per acquisition from the credential (tokens served from the kept one are not). */
  onToken?: ((durationMs: number, ok: boolean) => void) | undefined;
  /** Clock for tests. */
  now?: (() => number) | undefined;
}

interface KeptToken {
  token: string;
  renewAt: number;
  /** Order of the acquisition that got it: a slower, older acquisition never replaces a newer token. */
  generation: number;
}

interface Acquisition {
  promise: Promise<AccessToken | null>;
  /** Asked with claims, i.e. past the credential's own cache (after Graph refused a token). */
  forced: boolean;
}

export class GraphTokenSource {
  private kept: KeptToken | null = null;
  private inFlight: Acquisition | null = null;
  private generations = 0;
  private readonly now: () => number;

  constructor(private readonly options: GraphTokenSourceOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * A token within `remainingMs`, or a GraphError('token', notSent) whose message names only the credential type.
   * `refused`: the token Graph just answered 401 InvalidAuthenticationToken to; it is never handed out again,
   * and a new one is acquired past the credential's cache unless another caller already did.
   */
  async get(refused: string | undefined, remainingMs: number, requestIds: string[]): Promise<string> {
    const kept = this.kept;
    if (kept !== null && kept.token !== refused && this.now() < kept.renewAt) {
      return kept.token;
    }
    if (refused !== undefined && kept?.token === refused) {
      this.kept = null;
    }
    const { credentialType, scope } = this.options;
    let token: AccessToken | null;
    try {
      token = await withinMs(this.acquire(refused !== undefined, remainingMs), remainingMs);
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      const reason =
        (error instanceof Error ? error.message : String(error)).split('\n')[0]?.slice(0, 300) ?? '';
      // The authority's text (AADSTS codes, trace ids, app ids) is for operators: the log gets it, while the
      // error, which reaches attempt messages and API answers, names only the credential type.
      this.options.logger?.warn('could not acquire a Graph access token', {
        credential: credentialType,
        error: name,
        reason,
      });
      throw new GraphError(
        'token',
        `Could not get an access token for Graph from ${credentialType} (${name}); the reason is in the service log`,
        { requestIds, code: name, cause: error, notSent: true },
      );
    }
    if (token === null) {
      throw new GraphError('token', `${credentialType} returned no access token for ${scope}`, {
        requestIds,
        notSent: true,
      });
    }
    return token.token;
  }

  /**
   * Concurrent callers share one acquisition (no stampede on the token endpoint when a cold client gets a burst
   * or many calls meet the same 401). A forced one is shared only with other forced ones: an ordinary
   * acquisition already running may still answer with the refused token from the credential's cache.
   */
  private acquire(forced: boolean, remainingMs: number): Promise<AccessToken | null> {
    const running = this.inFlight;
    if (running !== null && (running.forced || !forced)) {
      return running.promise;
    }
    const generation = ++this.generations;
    const started = performance.now();
    const promise = this.options.credential.getToken(this.options.scope, {
      // Bounded by the budget of the call that started it; every caller waits no longer than its own.
      abortSignal: AbortSignal.timeout(Math.max(1, remainingMs)),
      // A claims value makes MSAL skip its cache: the refresh-once after Graph refused the kept token.
      ...(forced
        ? {
            claims: JSON.stringify({
              access_token: { nbf: { essential: true, value: String(Math.floor(this.now() / 1000)) } },
            }),
          }
        : {}),
    });
    const acquisition: Acquisition = { promise, forced };
    this.inFlight = acquisition;
    const settle = (token: AccessToken | null, ok: boolean): void => {
      if (this.inFlight === acquisition) {
        this.inFlight = null;
      }
      this.options.onToken?.(performance.now() - started, ok && token !== null);
      if (token !== null && (this.kept === null || generation > this.kept.generation)) {
        this.kept = { token: token.token, renewAt: renewAt(token, this.now()), generation };
      }
    };
    promise.then(
      (token) => settle(token ?? null, true),
      () => settle(null, false),
    );
    return promise;
  }
}
