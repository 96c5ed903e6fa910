// Relying services in the admin console (SPEC §3.14–3.15): the same rules as `twostep services`, seen
// from the provider's side. A public app gets no secret and signs in with PKCE alone; post-logout
// redirect URIs are checked like redirect URIs and are the only places a sign-out may return to; a
// removed service can no longer start an authorization.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { GOOD_PASSWORD, startListeningTestApp, type TestApp } from '../helpers/app.ts';
import { createVerifiedAccount } from '../helpers/journeys.ts';
import {
  authorizationRequest,
  exchange,
  POST_LOGOUT_URI,
  REDIRECT_URI,
  type TestService,
  Browser as UserBrowser,
} from '../helpers/oidc.ts';
import { createTestStaff, staffBrowser } from '../helpers/staff.ts';
import type { Browser as ConsoleBrowser } from '../security/support.ts';

let t: TestApp & { baseUrl: string };
let admin: ConsoleBrowser;
before(async () => {
  t = await startListeningTestApp();
  admin = await staffBrowser(t, await createTestStaff(t, 'admin'));
});
after(() => t.close());

/** Fills in the console's form; returns the page it answers with. */
async function registerInConsole(fields: Record<string, string>) {
  return admin.postForm('/console/admin/services', {
    _csrf: await admin.formToken('/console/admin/services'),
    ...fields,
  });
}

/** The relying party's view of a service registered in the console, as openid-client sees it. */
async function asService(page: string, kind: 'public' | 'confidential'): Promise<TestService> {
  const clientId = /data-client-id>([^<]+)</.exec(page)?.[1];
  assert.ok(clientId, 'no client_id shown');
  const clientSecret = /data-client-secret>([^<]+)</.exec(page)?.[1];
  const config = await client.discovery(
    new URL(`${t.baseUrl}/oidc`),
    clientId,
    clientSecret,
    kind === 'public' ? client.None() : undefined,
    { execute: [client.allowInsecureRequests] },
  );
  return { clientId, ...(clientSecret ? { clientSecret } : {}), config };
}

/** A new account signs in to the service and consents. */
async function signIn(service: TestService) {
  const account = await createVerifiedAccount(t);
  const browser = new UserBrowser(t.baseUrl);
  const request = await authorizationRequest(service);
  await browser.go(request.url.toString());
  await browser.submit('/login', { email: account.email, password: GOOD_PASSWORD });
  const callback = await browser.submit('/consent');
  assert.ok(callback, browser.page.slice(0, 500));
  return { browser, tokens: await exchange(service, request, callback) };
}

describe('relying services in the admin console', () => {
  test('a public app is registered without a secret and signs in with PKCE alone', async () => {
    const page = await registerInConsole({ name: 'Notes app', redirectUris: REDIRECT_URI, public: '1' });
    assert.equal(page.statusCode, 200, page.body.slice(0, 300));
    assert.doesNotMatch(page.body, /data-client-secret/);
    assert.doesNotMatch(page.body, /client_secret \(shown once/);
    const service = await asService(page.body, 'public');
    const stored = await t.app.services.store.relyingServices.find(service.clientId);
    assert.deepEqual({ kind: stored?.kind, secret: stored?.secretSealed }, { kind: 'public', secret: null });
    const { tokens } = await signIn(service);
    assert.ok(tokens.id_token, 'no ID token for the public app');
    const list = await admin.get('/console/admin/services');
    assert.match(list.body, new RegExp(`<td>Notes app</td><td><code>${service.clientId}</code></td><td>public</td>`));
  });

  test('a post-logout redirect URI from the console is where a sign-out returns, and the only one', async () => {
    const page = await registerInConsole({
      name: 'Mail app',
      redirectUris: REDIRECT_URI,
      postLogoutRedirectUris: POST_LOGOUT_URI,
    });
    assert.equal(page.statusCode, 200, page.body.slice(0, 300));
    const service = await asService(page.body, 'confidential');
    assert.ok(service.clientSecret, 'a confidential service gets its secret once');
    const list = await admin.get('/console/admin/services');
    assert.match(list.body, new RegExp(`<td>${POST_LOGOUT_URI}</td>`));

    const { browser, tokens } = await signIn(service);
    const elsewhere = client.buildEndSessionUrl(service.config, {
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: 'http://localhost:4999/elsewhere',
    });
    assert.equal(await browser.go(elsewhere.toString()), undefined, 'an unregistered URI is never followed');
    assert.equal(browser.status, 400);

    const logout = client.buildEndSessionUrl(service.config, {
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: POST_LOGOUT_URI,
    });
    assert.equal(await browser.go(logout.toString()), undefined);
    const back = await browser.go(browser.action('/session/end/confirm'), {
      xsrf: browser.field('xsrf'),
      logout: 'yes',
    });
    assert.ok(back, browser.page.slice(0, 500));
    assert.equal(`${back.origin}${back.pathname}`, POST_LOGOUT_URI);
  });

  test('a post-logout redirect URI is checked like the CLI checks it; nothing is registered', async () => {
    const before = (await t.app.services.store.relyingServices.list()).length;
    for (const wrong of ['http://evil.example/signed-out', 'https://app.example/out#x', 'not a url']) {
      const page = await registerInConsole({
        name: 'Bad app',
        redirectUris: REDIRECT_URI,
        postLogoutRedirectUris: wrong,
      });
      assert.equal(page.statusCode, 400, wrong);
      assert.doesNotMatch(page.body, /data-client-id/, wrong);
    }
    assert.equal((await t.app.services.store.relyingServices.list()).length, before);
  });

  test('a removed service can no longer start an authorization', async () => {
    const page = await registerInConsole({ name: 'Old app', redirectUris: REDIRECT_URI });
    const service = await asService(page.body, 'confidential');
    const first = new UserBrowser(t.baseUrl);
    await first.go((await authorizationRequest(service)).url.toString());
    assert.match(first.page, /Sign in to Old app/, 'the service works before it is removed');

    const removed = await admin.postForm(`/console/admin/services/${service.clientId}/remove`, {
      _csrf: await admin.formToken('/console/admin/services'),
    });
    assert.equal(removed.statusCode, 303, removed.body.slice(0, 300));
    const list = await admin.get('/console/admin/services');
    assert.ok(!list.body.includes(service.clientId), 'still listed');

    const browser = new UserBrowser(t.baseUrl);
    assert.equal(await browser.go((await authorizationRequest(service)).url.toString()), undefined);
    assert.equal(browser.status, 400);
    assert.match(browser.page, /invalid_client/);
    const [audit] = await t.app.services.store.console.searchAudit({ event: 'service.removed', limit: 1 });
    assert.equal(audit?.details.service, service.clientId, 'the removal is audited');
  });
});
