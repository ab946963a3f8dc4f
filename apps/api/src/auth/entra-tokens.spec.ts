import { type DevIssuer, DEV_AUDIENCE, DEV_TENANT_ID, startDevIssuer } from '../dev/dev-issuer';
import {
  AuthenticationError,
  ID_TOKEN_MESSAGE,
  TokenVerifier,
  V1_TOKEN_MESSAGE,
  audienceList,
} from './token-verifier';

/**
 * Tokens shaped exactly like Entra ID's (claims as documented for v2 access tokens, v1 access tokens and
 * ID tokens), signed by a local key whose JWKS the verifier fetches over HTTP as it would from Entra ID.
 */
const API_CLIENT_ID = '6e3c1b0a-1f5d-4c8e-9a7b-2d4f6a8c0e12';
const APP_ID_URI = 'api://sync-job-guard';
const SCHEDULER_CLIENT_ID = '0b7d2e4f-3a1c-4e5b-8d9f-1a2b3c4d5e6f';

describe('Entra ID tokens (AUTH_AUDIENCE list; v2 access tokens only)', () => {
  let issuer: DevIssuer;
  let verifier: TokenVerifier;

  beforeAll(async () => {
    issuer = await startDevIssuer({ audience: DEV_AUDIENCE });
    verifier = new TokenVerifier({
      issuer: issuer.issuer,
      audience: `${API_CLIENT_ID}, ${APP_ID_URI}`,
      jwksUri: issuer.jwksUri,
      clockToleranceSeconds: 0,
    });
  });
  afterAll(() => issuer.close());

  const refusal = async (token: string): Promise<string> => {
    try {
      await verifier.verify(token);
    } catch (error) {
      expect(error).toBeInstanceOf(AuthenticationError);
      return (error as Error).message;
    }
    throw new Error('the token was accepted');
  };

  it('splits AUTH_AUDIENCE on commas', () => {
    expect(audienceList(` ${API_CLIENT_ID} ,${APP_ID_URI},`)).toEqual([API_CLIENT_ID, APP_ID_URI]);
  });

  it('accepts a v2 app (daemon) token: aud = the API client id, roles, idtyp app, azp the client', async () => {
    const token = await issuer.sign({
      audience: API_CLIENT_ID,
      oid: '7a1e0c6b-5d2f-4b8a-9c3e-4f6a8b0c2d1e',
      roles: ['JobControl.Start'],
      extra: {
        azp: SCHEDULER_CLIENT_ID,
        azpacr: '1',
        idtyp: 'app',
        sub: '7a1e0c6b-5d2f-4b8a-9c3e-4f6a8b0c2d1e',
      },
    });
    const caller = await verifier.verify(token);
    expect(caller.actor).toEqual({
      type: 'app',
      id: '7a1e0c6b-5d2f-4b8a-9c3e-4f6a8b0c2d1e',
      name: SCHEDULER_CLIENT_ID,
    });
    expect([...caller.roles]).toEqual(['JobControl.Start']);
    expect(caller.tenantId).toBe(DEV_TENANT_ID);
  });

  it('accepts a v2 user (delegated) token: scp and roles, aud = the App ID URI', async () => {
    const token = await issuer.sign({
      audience: APP_ID_URI,
      oid: '2c4e6a8b-0d1f-4a3c-8e5b-7d9f1a3c5e7b',
      name: 'Ada Lovelace',
      scp: 'access_as_user',
      roles: ['JobControl.Read'],
      extra: { preferred_username: 'ada@contoso.example', azp: SCHEDULER_CLIENT_ID, azpacr: '0' },
    });
    const caller = await verifier.verify(token);
    expect(caller.actor).toEqual({
      type: 'user',
      id: '2c4e6a8b-0d1f-4a3c-8e5b-7d9f1a3c5e7b',
      name: 'Ada Lovelace',
    });
    expect([...caller.roles]).toEqual(['JobControl.Read']);
  });

  it('refuses a token for another audience', async () => {
    const token = await issuer.sign({ audience: '99999999-9999-4999-8999-999999999999' });
    expect(await refusal(token)).toBe('token claim "aud" is not valid');
  });

  it('refuses a v1 access token (issuer sts.windows.net) and says how to fix the app registration', async () => {
    const token = await issuer.sign({
      issuer: `https://sts.windows.net/${DEV_TENANT_ID}/`,
      audience: APP_ID_URI,
      roles: ['JobControl.Admin'],
      extra: { ver: '1.0', appid: SCHEDULER_CLIENT_ID, appidacr: '1', azp: undefined, azpacr: undefined },
    });
    const message = await refusal(token);
    expect(message).toBe(V1_TOKEN_MESSAGE);
    expect(message).toContain('"requestedAccessTokenVersion": 2');
  });

  it('refuses an ID token for the same audience (issue 12: only access tokens)', async () => {
    // An ID token Entra ID issues when a person signs in to the API's own app registration: aud = its client
    // id, same v2 issuer and signing keys, roles present, but no azp and a nonce.
    const token = await issuer.sign({
      audience: API_CLIENT_ID,
      name: 'Ada Lovelace',
      roles: ['JobControl.Admin'],
      extra: {
        azp: undefined,
        azpacr: undefined,
        idtyp: undefined,
        nonce: 'b3f1c2d4',
        preferred_username: 'ada@contoso.example',
        sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
        aio: 'Df2UVXL1ix!lMCWMSOJBcFatzcGfvFGhjKv8q5g0x732dR5MB5BisvGQO7YWByjd8iQDLq!eGbIDakyp5mnOrcdqHeYSnltepQmRp6AIZ8jY',
      },
    });
    expect(await refusal(token)).toBe(ID_TOKEN_MESSAGE);
  });

  it('the same claims as an access token (azp, no nonce) pass: the refusal is about the kind of token', async () => {
    const token = await issuer.sign({ audience: API_CLIENT_ID, name: 'Ada Lovelace', scp: 'access_as_user' });
    await expect(verifier.verify(token)).resolves.toMatchObject({ actor: { type: 'user' } });
  });
});
