// A service signs its users in through Twostep with the authorization code flow and PKCE (SPEC
// §3.14), driven by openid-client as the service and a cookie-keeping browser as the user.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { GOOD_PASSWORD, startListeningTestApp, type TestApp } from '../helpers/app.ts';
import { createVerifiedAccount } from '../helpers/journeys.ts';
import {
  addService,
  authorizationRequest,
  Browser,
  exchange,
  REDIRECT_URI,
  type TestService,
} from '../helpers/oidc.ts';

describe('OpenID Connect: code flow with PKCE', () => {
  let t: TestApp & { baseUrl: string };
  let service: TestService;

  before(async () => {
    t = await startListeningTestApp();
    service = await addService(t);
  });
  after(() => t.close());

  test('discovery names what Twostep offers, and only that', async () => {
    const meta = service.config.serverMetadata();
    assert.equal(meta.issuer, `${t.baseUrl}/oidc`);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(meta.response_types_supported, ['code']);
    assert.deepEqual(meta.id_token_signing_alg_values_supported, ['RS256']);
    assert.ok(!meta.grant_types_supported?.includes('password'));
    assert.ok(!meta.grant_types_supported?.includes('implicit'));
    assert.deepEqual(meta.acr_values_supported, ['urn:twostep:acr:password', 'urn:twostep:acr:two-step']);
    const root = await fetch(`${t.baseUrl}/.well-known/openid-configuration`, { redirect: 'manual' });
    assert.equal(root.status, 308);
    assert.equal(root.headers.get('location'), '/oidc/.well-known/openid-configuration');
    const jwks = await (await fetch(meta.jwks_uri as string)).json();
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0].kty, 'RSA');
    assert.equal(jwks.keys[0].d, undefined, 'no private part is published');
  });

  test('a user signs in with a password, consents, and the service gets tokens that say how', async () => {
    const account = await createVerifiedAccount(t);
    const browser = new Browser(t.baseUrl);
    const request = await authorizationRequest(service);
    assert.equal(await browser.go(request.url.toString()), undefined);
    assert.match(browser.page, /Sign in to Messages/);
    assert.equal(await browser.submit('/login', { email: account.email, password: GOOD_PASSWORD }), undefined);
    assert.match(browser.page, /Allow Messages to use your account\?/);
    const callback = await browser.submit('/consent');
    assert.ok(callback, browser.page);
    assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI);

    const tokens = await exchange(service, request, callback);
    const claims = tokens.claims();
    assert.ok(claims);
    assert.equal(claims.acr, 'urn:twostep:acr:password');
    assert.deepEqual(claims.amr, ['pwd']);
    assert.equal(typeof claims.auth_time, 'number');
    assert.ok(Math.abs((claims.auth_time as number) - Date.now() / 1000) < 60);
    const me = await client.fetchUserInfo(service.config, tokens.access_token, claims.sub);
    assert.equal(me.email, account.email);
    assert.equal(me.name, account.name);

    // The sign-in is in the account's activity.
    const events = await t.app.services.store.audit.listForAccount(claims.sub, { limit: 20 });
    const signedIn = events.find((e) => e.event === 'service.signed_in');
    assert.ok(signedIn);
    assert.equal(signedIn.details.service, service.clientId);
    assert.ok(events.some((e) => e.event === 'service.authorized'));

    // Signed in to Twostep too: a second request from this browser needs neither password nor consent.
    const again = await authorizationRequest(service);
    const second = await browser.go(again.url.toString());
    assert.ok(second, browser.page);
    const secondTokens = await exchange(service, again, second);
    assert.equal(secondTokens.claims()?.sub, claims.sub);
  });

  test('signing out of Twostep ends the single sign-on: the next service sign-in asks again', async () => {
    const account = await createVerifiedAccount(t);
    const browser = new Browser(t.baseUrl);
    const first = await authorizationRequest(service);
    await browser.go(first.url.toString());
    await browser.submit('/login', { email: account.email, password: GOOD_PASSWORD });
    assert.ok(await browser.submit('/consent'));

    await browser.visit('/account');
    await browser.submit('/signout');
    const next = await authorizationRequest(service);
    assert.equal(await browser.go(next.url.toString()), undefined);
    assert.match(browser.page, /Sign in to Messages/);
  });

  test('the sign-in pages allow their form to lead back to the service, and nowhere else', async () => {
    const browser = new Browser(t.baseUrl);
    const request = await authorizationRequest(service);
    const response = await browser.request(request.url.toString());
    const page = await browser.request(response.headers.get('location') as string);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /form-action 'self' http:\/\/localhost:4999(;|$)/);
    assert.match(csp, /script-src 'self'(;|$)/);
  });

  test('a wrong password shows the form again with the reason, and no code is issued', async () => {
    const account = await createVerifiedAccount(t);
    const browser = new Browser(t.baseUrl);
    const request = await authorizationRequest(service);
    await browser.go(request.url.toString());
    assert.equal(
      await browser.submit('/login', { email: account.email, password: 'not the password at all' }),
      undefined,
    );
    assert.equal(browser.status, 401);
    assert.match(browser.page, /Sign in to Messages/);
  });
});
