import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { GraphError } from './graph-client';
import { GraphTokenSource, renewAt, TOKEN_RENEW_BEFORE_EXPIRY_MS } from './graph-token';

const HOUR = 3_600_000;
const MIN = 60_000;

/** A TokenCredential (the @azure/identity interface) whose answers the test releases one by one. */
class FakeCredential implements TokenCredential {
  readonly calls: { scopes: string | string[]; options?: GetTokenOptions | undefined }[] = [];
  private readonly pending: {
    resolve: (t: AccessToken | null) => void;
    reject: (e: Error) => void;
  }[] = [];

  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    this.calls.push({ scopes, options });
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  /** Answers an open request: the oldest unless `which` (its index among the open ones) says otherwise. */
  answer(token: string | null, expiresOnTimestamp: number, which = 0): void {
    const [next] = this.pending.splice(which, 1);
    if (!next) {
      throw new Error('no open token request');
    }
    next.resolve(token === null ? null : { token, expiresOnTimestamp });
  }

  fail(message: string): void {
    this.pending.shift()?.reject(Object.assign(new Error(message), { name: 'AuthenticationError' }));
  }

  get open(): number {
    return this.pending.length;
  }
}

/** Lets the microtasks queued by settled promises run. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('GraphTokenSource', () => {
  let clock: number;
  let credential: FakeCredential;
  let acquisitions: boolean[];
  let source: GraphTokenSource;

  beforeEach(() => {
    clock = 1_800_000_000_000;
    credential = new FakeCredential();
    acquisitions = [];
    source = new GraphTokenSource({
      credential,
      scope: 'https://graph.example/.default',
      credentialType: 'FakeCredential',
      onToken: (_ms, ok) => acquisitions.push(ok),
      now: () => clock,
    });
  });

  /** get() with the answer released once the request reached the credential. */
  async function getAnswered(token: string, expiresInMs: number, refused?: string): Promise<string> {
    const got = source.get(refused, 5_000, []);
    await flush();
    credential.answer(token, clock + expiresInMs);
    return got;
  }

  it('keeps an hour-long token until 5 minutes before it expires, then asks the credential again', async () => {
    expect(await getAnswered('t1', HOUR)).toBe('t1');
    clock += HOUR - TOKEN_RENEW_BEFORE_EXPIRY_MS - 1;
    expect(await source.get(undefined, 5_000, [])).toBe('t1');
    expect(credential.calls).toHaveLength(1);
    clock += 1;
    expect(await getAnswered('t2', HOUR)).toBe('t2');
    expect(credential.calls).toHaveLength(2);
    expect(credential.calls[1]?.options?.claims).toBeUndefined();
    expect(acquisitions).toEqual([true, true]);
  });

  it('renews a short-lived token halfway through its life, and honours refreshAfterTimestamp', () => {
    const now = 1_000_000;
    expect(renewAt({ token: 'x', expiresOnTimestamp: now + 4 * MIN }, now)).toBe(now + 2 * MIN);
    expect(renewAt({ token: 'x', expiresOnTimestamp: now + HOUR }, now)).toBe(now + HOUR - 5 * MIN);
    expect(
      renewAt(
        { token: 'x', expiresOnTimestamp: now + 24 * HOUR, refreshAfterTimestamp: now + 12 * HOUR },
        now,
      ),
    ).toBe(now + 12 * HOUR);
    // Already expired (or a clock far ahead): renewed at once, never kept past its expiry.
    expect(renewAt({ token: 'x', expiresOnTimestamp: now - MIN }, now)).toBe(now - MIN);
  });

  it('asks again on every call for a token that is already expired when it arrives', async () => {
    expect(await getAnswered('old', -1)).toBe('old');
    const second = source.get(undefined, 5_000, []);
    await flush();
    expect(credential.calls).toHaveLength(2);
    credential.answer('new', clock + HOUR);
    expect(await second).toBe('new');
  });

  it('shares one acquisition among concurrent callers (single flight)', async () => {
    const all = Promise.all(Array.from({ length: 20 }, () => source.get(undefined, 5_000, [])));
    await flush();
    expect(credential.calls).toHaveLength(1);
    credential.answer('shared', clock + HOUR);
    expect(new Set(await all)).toEqual(new Set(['shared']));
    expect(acquisitions).toEqual([true]);
  });

  it('drops a refused token and gets a new one past the credential cache, once for all refusals', async () => {
    await getAnswered('t1', HOUR);
    const refusals = Promise.all(Array.from({ length: 10 }, () => source.get('t1', 5_000, [])));
    await flush();
    expect(credential.calls).toHaveLength(2);
    // A claims value is what makes MSAL skip its own cache.
    expect(credential.calls[1]?.options?.claims).toContain('nbf');
    credential.answer('t2', clock + HOUR);
    expect(new Set(await refusals)).toEqual(new Set(['t2']));
    // A refusal of an older token that arrives late is served the newer one without asking.
    expect(await source.get('t1', 5_000, [])).toBe('t2');
    expect(await source.get(undefined, 5_000, [])).toBe('t2');
    expect(credential.calls).toHaveLength(2);
  });

  it('a forced acquisition is not served by an ordinary one already running', async () => {
    await getAnswered('t1', 1_000);
    clock += 600; // past the renewal point: an ordinary acquisition starts
    const ordinary = source.get(undefined, 5_000, []);
    await flush();
    const forced = source.get('t1', 5_000, []);
    await flush();
    expect(credential.calls).toHaveLength(3);
    expect(credential.calls[2]?.options?.claims).toContain('nbf');
    credential.answer('t1', clock + 400); // the ordinary one: the refused token, from the credential's cache
    credential.answer('t2', clock + HOUR); // the forced one
    expect(await ordinary).toBe('t1');
    expect(await forced).toBe('t2');
    expect(await source.get(undefined, 5_000, [])).toBe('t2');
    expect(credential.calls).toHaveLength(3);
  });

  it('an older acquisition that finishes last never replaces the newer token', async () => {
    await getAnswered('t1', 1_000);
    clock += 600;
    const ordinary = source.get(undefined, 5_000, []);
    await flush();
    const forced = source.get('t1', 5_000, []);
    await flush();
    credential.answer('t2', clock + HOUR, 1); // the forced (newer) one finishes first
    expect(await forced).toBe('t2');
    credential.answer('t1', clock + 400); // then the ordinary (older) one, with the refused token
    expect(await ordinary).toBe('t1');
    await flush();
    expect(await source.get(undefined, 5_000, [])).toBe('t2');
    expect(credential.calls).toHaveLength(3);
  });

  it('refusals while a forced acquisition runs share it', async () => {
    await getAnswered('t1', HOUR);
    const forced = source.get('t1', 5_000, []);
    await flush();
    const again = source.get('t1', 5_000, []);
    await flush();
    expect(credential.calls).toHaveLength(2);
    credential.answer('t2', clock + HOUR);
    expect(await forced).toBe('t2');
    expect(await again).toBe('t2');
  });

  it('fails with a GraphError naming only the credential type, and asks again on the next call', async () => {
    const warnings: string[] = [];
    source = new GraphTokenSource({
      credential,
      scope: 's',
      credentialType: 'FakeCredential',
      logger: { debug: () => undefined, warn: (m, f) => warnings.push(`${m} ${JSON.stringify(f)}`) },
      onToken: (_ms, ok) => acquisitions.push(ok),
      now: () => clock,
    });
    const failing = source.get(undefined, 5_000, ['rid-1']);
    await flush();
    credential.fail('AADSTS7000215: Invalid client secret provided. Trace ID: abc');
    const error = await failing.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GraphError);
    expect(error).toMatchObject({ kind: 'token', details: expect.objectContaining({ notSent: true }) });
    expect((error as GraphError).message).toContain('FakeCredential');
    expect((error as GraphError).message).not.toContain('AADSTS');
    expect(warnings.join('\n')).toContain('AADSTS7000215');
    expect(acquisitions).toEqual([false]);
    expect(await getAnswered('t1', HOUR)).toBe('t1');
    expect(credential.calls).toHaveLength(2);
  });

  it('a caller waits no longer than its own budget for a shared acquisition', async () => {
    const slow = source.get(undefined, 5_000, []);
    await flush();
    const hurried = source.get(undefined, 20, []);
    await expect(hurried).rejects.toMatchObject({ kind: 'token' });
    credential.answer('t1', clock + HOUR);
    expect(await slow).toBe('t1');
    expect(credential.open).toBe(0);
  });

  it('a null answer from the credential is an error, and nothing is kept', async () => {
    const got = source.get(undefined, 5_000, []);
    await flush();
    credential.answer(null, 0);
    await expect(got).rejects.toMatchObject({ kind: 'token' });
    expect(acquisitions).toEqual([false]);
  });
});
