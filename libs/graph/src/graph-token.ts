import type { AccessToken, TokenCredential } from '@azure/identity';
import { GraphError } from './graph-client';
import type { GraphLogger } from './graph-observer';

/** Bearer tokens for Graph from an @azure/identity credential: one shared acquisition, a refresh on demand. */

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

export interface GraphTokenSourceOptions {
  credential: TokenCredential;
  scope: string;
  /** The credential's type, the only thing about it errors name. */
  credentialType: string;
  logger?: GraphLogger | undefined;
  /** Metrics hook: one call per token acquisition (cached ones included: the credential caches). */
  onToken?: ((durationMs: number, ok: boolean) => void) | undefined;
}

export class GraphTokenSource {
  private inFlight: Promise<AccessToken | null> | null = null;

  constructor(private readonly options: GraphTokenSourceOptions) {}

  /** A token within `remainingMs`, or a GraphError('token', notSent) whose message names only the credential type. */
  async get(forceNew: boolean, remainingMs: number, requestIds: string[]): Promise<string> {
    const { credentialType, scope } = this.options;
    const started = performance.now();
    let token: AccessToken | null;
    try {
      token = await this.acquire(forceNew, remainingMs);
    } catch (error) {
      this.options.onToken?.(performance.now() - started, false);
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
    this.options.onToken?.(performance.now() - started, token !== null);
    if (token === null) {
      throw new GraphError('token', `${credentialType} returned no access token for ${scope}`, {
        requestIds,
        notSent: true,
      });
    }
    return token.token;
  }

  /**
   * Concurrent callers share one in-flight acquisition (no stampede on the token endpoint when a cold client
   * gets a burst); the credential's own cache serves the rest.
   */
  private acquire(forceNew: boolean, remainingMs: number): Promise<AccessToken | null> {
    if (!forceNew && this.inFlight) {
      // Shared with an earlier caller, whose deadline may be later than ours: wait no longer than our own.
      return withinMs(this.inFlight, remainingMs);
    }
    const promise = this.options.credential.getToken(this.options.scope, {
      abortSignal: AbortSignal.timeout(Math.max(1, remainingMs)),
      // A claims value makes MSAL skip its cache: the refresh-once after Graph refused the cached token.
      ...(forceNew
        ? {
            claims: JSON.stringify({
              access_token: { nbf: { essential: true, value: String(Math.floor(Date.now() / 1000)) } },
            }),
          }
        : {}),
    });
    if (!forceNew) {
      this.inFlight = promise;
      const clear = (): void => {
        if (this.inFlight === promise) {
          this.inFlight = null;
        }
      };
      promise.then(clear, clear);
    }
    return promise;
  }
}
