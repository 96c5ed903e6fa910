// Tokens (SECURITY.md item 39): refresh tokens rotate at every use and a reused one ends the whole
// grant; an authorization code works once, and its reuse revokes what it gave; RP-initiated logout
// asks first and ends the sign-in.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { GOOD_PASSWORD, startListeningTestApp, type TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, signInToken } from '../helpers/journeys.ts';
import {
  addService,
  authorizationRequest,
  Browser,
  exchange,
  POST_LOGOUT_URI,
  type TestService,
} from '../helpers/oidc.ts';

describe('OpenID Connect: tokens and logout', () => {
  let t: TestApp & { baseUrl: string };
  let service: TestService;

  before(async () => {
    t = await startListeningTestApp();
    service = await addService(t);
  });
  after(() => t.close());

  /** A new account signs in and consents; returns the callback and the browser. */
  async function signIn(extra: Record<string, string> = {}, onto?: TestService) {
    const target = onto ?? service;
    const account = await createVerifiedAccount(t);
    const browser = new Browser(t.baseUrl);
    const request = await authorizationRequest(target, extra);
    await browser.go(request.url.toString());
    await browser.submit('/login', { email: account.email, password: GOOD_PASSWORD });
    const callback = await browser.submit('/consent');
    assert.ok(callback, browser.page);
    return { browser, request, callback, account };
  }

  async function rejectedWith(work: Promise<unknown>, error: string): Promise<void> {
    await assert.rejects(work, (e: { error?: string; code?: string }) => {
      assert.equal(e.error, error, String(e));
      return true;
    });
  }

  test('refresh tokens rotate, and a reused one revokes the whole grant', async () => {
    const { request, callback } = await signIn({ scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await exchange(service, request, callback);
    const first = tokens.refresh_token;
    assert.ok(first, 'offline_access with consent gives a refresh token');

    const rotated = await client.refreshTokenGrant(service.config, first);
    assert.ok(rotated.refresh_token);
    assert.notEqual(rotated.refresh_token, first);
    assert.equal(rotated.claims()?.acr, 'urn:twostep:acr:password', 'the new ID token keeps how the user signed in');
    // The chain keeps the first token's end: rotation never extends it (OIDC_REFRESH_TOKEN_DAYS after sign-in).
    const rows = await t.database.db
      .selectFrom('oidc_payloads')
      .select(['expires_at', 'consumed_at'])
      .where('model', '=', 'RefreshToken')
      .where('account_id', '=', String(tokens.claims()?.sub))
      .orderBy('consumed_at', (ob) => ob.asc().nullsLast())
      .execute();
    assert.equal(rows.length, 2);
    const [used, current] = rows as [(typeof rows)[0], (typeof rows)[0]];
    assert.ok(used.consumed_at !== null && current.consumed_at === null);
    const days = ((used.expires_at as Date).getTime() - Date.now()) / 86_400_000;
    assert.ok(days > 13.9 && days <= 14, `first refresh token lives 14 days, not ${days}`);
    assert.ok((current.expires_at as Date).getTime() <= (used.expires_at as Date).getTime() + 1000);

    // The first token again: refused, and the rotated one dies with the grant.
    await rejectedWith(client.refreshTokenGrant(service.config, first), 'invalid_grant');
    await rejectedWith(client.refreshTokenGrant(service.config, rotated.refresh_token), 'invalid_grant');
    await assert.rejects(client.fetchUserInfo(service.config, rotated.access_token, client.skipSubjectCheck));
  });

  test('no code, token, secret or password reaches the log', async () => {
    const { request, callback, account } = await signIn({ scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await exchange(service, request, callback);
    const rotated = await client.refreshTokenGrant(service.config, tokens.refresh_token as string);
    await client.fetchUserInfo(service.config, rotated.access_token, client.skipSubjectCheck);
    const secrets = {
      code: callback.searchParams.get('code') as string,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token as string,
      rotatedRefreshToken: rotated.refresh_token as string,
      idToken: tokens.id_token as string,
      clientSecret: service.clientSecret as string,
      password: account.password,
      verifier: request.verifier,
    };
    const log = t.logText();
    for (const [name, secret] of Object.entries(secrets)) assert.ok(!log.includes(secret), `${name} in the log`);
  });

  test('a password change ends what services hold, as it ends the other sessions', async () => {
    const { request, callback, account } = await signIn({ scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await exchange(service, request, callback);
    // The change happens two seconds after the tokens were issued (the test clock is behind the wall clock).
    t.clock.advance(Date.now() - t.clock.now().getTime() + 2000);
    const session = await signInToken(t, account.email);
    const changed = await t.request({
      method: 'POST',
      url: '/api/v1/password',
      headers: bearer(session),
      payload: { currentPassword: GOOD_PASSWORD, newPassword: 'purple elephant dances quietly' },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    await rejectedWith(client.refreshTokenGrant(service.config, tokens.refresh_token as string), 'invalid_grant');
    await assert.rejects(client.fetchUserInfo(service.config, tokens.access_token, client.skipSubjectCheck));
  });

  test('without offline_access and consent there is no refresh token', async () => {
    const { request, callback } = await signIn({ scope: 'openid offline_access' });
    const tokens = await exchange(service, request, callback);
    assert.equal(tokens.refresh_token, undefined);
  });

  test('an authorization code works once; its reuse revokes the tokens it gave', async () => {
    const { request, callback } = await signIn({ scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await exchange(service, request, callback);
    await client.fetchUserInfo(service.config, tokens.access_token, client.skipSubjectCheck);
    await rejectedWith(exchange(service, request, callback), 'invalid_grant');
    await assert.rejects(client.fetchUserInfo(service.config, tokens.access_token, client.skipSubjectCheck));
    await rejectedWith(client.refreshTokenGrant(service.config, tokens.refresh_token as string), 'invalid_grant');
  });

  test('a public service signs in with PKCE and no secret, and its refresh tokens rotate', async () => {
    const app = await addService(t, 'public', 'Messages for the web');
    const { request, callback } = await signIn({ scope: 'openid offline_access', prompt: 'consent' }, app);
    const tokens = await exchange(app, request, callback);
    assert.ok(tokens.refresh_token);
    const rotated = await client.refreshTokenGrant(app.config, tokens.refresh_token);
    assert.notEqual(rotated.refresh_token, tokens.refresh_token);
  });

  test('logout asks first, then ends the sign-in at Twostep and returns to the service', async () => {
    const { browser, request, callback } = await signIn();
    const tokens = await exchange(service, request, callback);
    const logout = client.buildEndSessionUrl(service.config, {
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: POST_LOGOUT_URI,
      state: 'bye',
    });
    assert.equal(await browser.go(logout.toString()), undefined);
    assert.match(browser.page, /Messages asks to sign you out of Twostep/);
    const back = await browser.go(browser.action('/session/end/confirm'), {
      xsrf: browser.field('xsrf'),
      logout: 'yes',
    });
    assert.ok(back, browser.page);
    assert.equal(`${back.origin}${back.pathname}`, POST_LOGOUT_URI);
    assert.equal(back.searchParams.get('state'), 'bye');

    // Signed out of Twostep too: the next sign-in asks for the password, and the old tokens are gone.
    const next = await authorizationRequest(service);
    assert.equal(await browser.go(next.url.toString()), undefined);
    assert.match(browser.page, /Sign in to Messages/);
    await assert.rejects(client.fetchUserInfo(service.config, tokens.access_token, client.skipSubjectCheck));
    const account = await browser.request('/api/v1/me');
    assert.equal(account.status, 401);
  });

  test('logout with a forged, unsigned id_token_hint is refused', async () => {
    const { request, callback } = await signIn();
    const tokens = await exchange(service, request, callback);
    const [, payload] = (tokens.id_token as string).split('.');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const browser = new Browser(t.baseUrl);
    await browser.go(
      client
        .buildEndSessionUrl(service.config, { id_token_hint: unsigned, post_logout_redirect_uri: POST_LOGOUT_URI })
        .toString(),
    );
    assert.equal(browser.status, 400);
    assert.match(browser.page, /could not continue/);
  });
});
