// What the provider refuses (SECURITY.md item 39): a redirect URI that is not registered exactly,
// PKCE `plain` or none, implicit and hybrid responses, `alg: none` anywhere (request objects, ID
// tokens, client assertions: it is never offered), a removed service, and an interaction that is
// not this browser's.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { removeService } from '../../src/flows/services.ts';
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

describe('OpenID Connect: refused requests', () => {
  let t: TestApp & { baseUrl: string };
  let service: TestService;

  before(async () => {
    t = await startListeningTestApp();
    service = await addService(t);
  });
  after(() => t.close());

  function authorize(params: Record<string, string>): URL {
    const url = new URL(`${t.baseUrl}/oidc/auth`);
    const all = {
      client_id: service.clientId,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: REDIRECT_URI,
      state: 'xyz',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      ...params,
    };
    for (const [key, value] of Object.entries(all)) if (value !== '') url.searchParams.set(key, value);
    return url;
  }

  test('a redirect URI that is not registered exactly gets an error page, never a redirect', async () => {
    for (const wrong of [
      'http://localhost:4999/callback/',
      'http://localhost:4999/callback?x=1',
      'http://localhost:4999/CALLBACK',
      'http://evil.example/callback',
      'http://localhost:4998/callback',
    ]) {
      const browser = new Browser(t.baseUrl);
      const left = await browser.go(authorize({ redirect_uri: wrong }).toString());
      assert.equal(left, undefined, `no redirect to ${wrong}`);
      assert.equal(browser.status, 400);
      assert.match(browser.page, /redirect_uri/);
    }
    // Leaving it out is no better, even though the service has a single one.
    const browser = new Browser(t.baseUrl);
    assert.equal(await browser.go(authorize({ redirect_uri: '' }).toString()), undefined);
    assert.equal(browser.status, 400);
  });

  test('PKCE is required and only S256 is accepted', async () => {
    for (const params of [
      { code_challenge_method: 'plain', code_challenge: 'a'.repeat(43) },
      { code_challenge_method: '', code_challenge: '' },
      { code_challenge_method: 'S256', code_challenge: '' },
    ]) {
      const back = await new Browser(t.baseUrl).go(authorize(params).toString());
      assert.ok(back, JSON.stringify(params));
      assert.equal(back.searchParams.get('error'), 'invalid_request', JSON.stringify(params));
      assert.equal(back.searchParams.get('code'), null);
    }
  });

  test('implicit and hybrid responses are not offered', async () => {
    for (const responseType of ['token', 'id_token', 'id_token token', 'code id_token']) {
      const browser = new Browser(t.baseUrl);
      const back = await browser.go(authorize({ response_type: responseType, nonce: 'n' }).toString());
      assert.ok(back, `${responseType}: ${browser.status}`);
      // The error goes where that response type would have put its answer (the fragment), and nothing else does.
      const answer = new URLSearchParams(back.hash.slice(1) || back.search.slice(1));
      assert.equal(answer.get('error'), 'unsupported_response_type', back.toString());
      for (const issued of ['code', 'access_token', 'id_token']) assert.equal(answer.get(issued), null);
    }
  });

  test('an unsigned request object (alg: none) is refused', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const body = Buffer.from(
      JSON.stringify({
        client_id: service.clientId,
        response_type: 'code',
        redirect_uri: REDIRECT_URI,
        scope: 'openid',
      }),
    ).toString('base64url');
    const back = await new Browser(t.baseUrl).go(authorize({ request: `${header}.${body}.` }).toString());
    assert.ok(back);
    assert.equal(back.searchParams.get('code'), null);
    assert.match(back.searchParams.get('error') ?? '', /^(request_not_supported|invalid_request_object)$/);
  });

  test('alg none is offered nowhere: discovery lists no such algorithm, ID tokens are RS256 only', async () => {
    const discovery = await (await fetch(`${t.baseUrl}/oidc/.well-known/openid-configuration`)).json();
    const algLists = Object.entries(discovery).filter(([name]) => name.endsWith('_alg_values_supported'));
    assert.ok(algLists.length > 0);
    for (const [name, values] of algLists) {
      assert.ok(Array.isArray(values), name);
      assert.ok(!values.map((v: string) => v.toLowerCase()).includes('none'), `${name} lists none`);
    }
    assert.deepEqual(discovery.id_token_signing_alg_values_supported, ['RS256']);
    // Request objects are not taken at all (so the unsigned one above gets request_not_supported) …
    assert.notEqual(discovery.request_parameter_supported, true);
    assert.equal(discovery.request_object_signing_alg_values_supported, undefined);
    assert.equal(discovery.request_uri_parameter_supported, false);
    // … and neither are JWT client assertions, whose alg a client would choose.
    assert.deepEqual(discovery.token_endpoint_auth_methods_supported, [
      'client_secret_basic',
      'client_secret_post',
      'none',
    ]);
    assert.equal(discovery.token_endpoint_auth_signing_alg_values_supported, undefined);
  });

  test('a service cannot be set up for unsigned ID tokens', async () => {
    const { Client } = t.app.server.oidc.provider;
    const registered = await Client.find(service.clientId);
    assert.equal(registered?.idTokenSignedResponseAlg, 'RS256');
    // Whatever metadata a service had, the provider would refuse it rather than sign with none
    // (its types already leave `none` out; the metadata is written untyped, as it would be stored).
    const metadata: Record<string, unknown> = {
      client_id: 'unsigned-tokens',
      client_secret: 'a'.repeat(43),
      redirect_uris: [REDIRECT_URI],
      id_token_signed_response_alg: 'none',
    };
    await assert.rejects(
      Client.validate(metadata as Parameters<typeof Client.validate>[0]),
      (error: { error?: string; error_description?: string }) =>
        error.error === 'invalid_client_metadata' && /id_token_signed_response_alg/.test(error.error_description ?? ''),
    );
  });

  test('an unsigned client assertion (alg: none) at the token endpoint is refused; the code stays unused', async () => {
    const account = await createVerifiedAccount(t);
    const browser = new Browser(t.baseUrl);
    const request = await authorizationRequest(service);
    await browser.go(request.url.toString());
    await browser.submit('/login', { email: account.email, password: GOOD_PASSWORD });
    const callback = await browser.submit('/consent');
    assert.ok(callback, browser.page.slice(0, 500));
    const code = callback.searchParams.get('code');
    assert.ok(code);
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: service.clientId,
      sub: service.clientId,
      aud: `${t.baseUrl}/oidc/token`,
      jti: randomUUID(),
      iat: now,
      exp: now + 60,
    };
    const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
    const response = await fetch(`${t.baseUrl}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: request.verifier,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: unsigned,
      }),
    });
    const body = await response.json();
    // Today the assertion is not even read (no JWT client authentication is offered: invalid_request);
    // were it offered, the alg must still fail it (invalid_client). Either way: no tokens.
    assert.ok([400, 401].includes(response.status), JSON.stringify(body));
    assert.match(body.error, /^(invalid_request|invalid_client)$/);
    assert.equal(body.access_token, undefined);
    assert.equal(body.id_token, undefined);
    // The refusal was the assertion alone: the same code still works with the service's real secret.
    const tokens = await exchange(service, request, callback);
    assert.ok(tokens.id_token);
  });

  test('the password grant does not exist, and the token endpoint wants client authentication', async () => {
    const response = await fetch(`${t.baseUrl}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', username: 'a', password: 'b', client_id: service.clientId }),
    });
    assert.equal(response.status, 401);
    const basic = Buffer.from(`${service.clientId}:${service.clientSecret}`).toString('base64');
    const withSecret = await fetch(`${t.baseUrl}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      body: new URLSearchParams({ grant_type: 'password', username: 'a', password: 'b' }),
    });
    assert.equal(withSecret.status, 400);
    assert.equal((await withSecret.json()).error, 'unsupported_grant_type');
  });

  test('a removed service signs nobody in', async () => {
    const gone = await addService(t, 'confidential', 'Old app');
    await removeService({ store: t.app.services.store, clock: t.clock, config: t.config }, gone.clientId, 'test');
    const browser = new Browser(t.baseUrl);
    const url = client.buildAuthorizationUrl(gone.config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    assert.equal(await browser.go(url.toString()), undefined);
    assert.equal(browser.status, 400);
    assert.match(browser.page, /invalid_client/);
  });

  test("another browser's interaction, or none, is an expired sign-in; a form without its token is refused", async () => {
    const browser = new Browser(t.baseUrl);
    await browser.go(authorize({}).toString());
    const loginAction = browser.action('/login');

    const stranger = new Browser(t.baseUrl);
    await stranger.go(loginAction.replace('/login', ''));
    assert.equal(stranger.status, 410);
    assert.match(stranger.page, /expired/);

    await browser.go(loginAction, { email: 'a@example.com', password: 'whatever-password' });
    assert.equal(browser.status, 403, 'no CSRF token');
    await browser.go('/interaction/not-a-real-one');
    assert.equal(browser.status, 410);
  });
});
