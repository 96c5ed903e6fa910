// An attacker's page tries to make a signed-in visitor's browser change their account (SECURITY.md
// item 32): cross-site form posts and API calls are refused, forms need their token, GET changes
// nothing, and bearer-token clients (no ambient credentials) are not subject to the origin check.
// The last part reads every registered route from Fastify, so a new form cannot forget either defence.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HTTPMethods, LightMyRequestResponse } from 'fastify';
import { GOOD_PASSWORD, type TestApp, uniqueEmail } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, signInToken, signUpFields, verificationToken } from '../helpers/journeys.ts';
import { enrolTwoStep } from '../helpers/two-step.ts';
import { assertErrorContract, Browser, EVIL_ORIGIN, signInBrowser, startTestApp } from './support.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(() => t.close());

/** What an attacker could hope to change, read straight from the database. */
async function accountState(email: string) {
  const account = await t.database.db.selectFrom('accounts').selectAll().where('email', '=', email).executeTakeFirst();
  const sessions = account
    ? await t.database.db
        .selectFrom('sessions')
        .select(['id', 'revoked_at'])
        .where('account_id', '=', account.id)
        .orderBy('id')
        .execute()
    : [];
  return {
    exists: account !== undefined,
    name: account?.name,
    passwordHash: account?.password_hash,
    locale: account?.locale,
    verified: account?.email_verified_at !== null && account?.email_verified_at !== undefined,
    sessions: sessions.map((s) => `${s.id}:${s.revoked_at === null ? 'live' : 'revoked'}`),
  };
}

/** The ways a cross-site request shows itself (Fetch Metadata and Origin). */
const CROSS_SITE: Record<string, Record<string, string>> = {
  'Origin: https://evil.example': { origin: EVIL_ORIGIN },
  'Origin: https://evil.example, Sec-Fetch-Site: cross-site': { origin: EVIL_ORIGIN, 'sec-fetch-site': 'cross-site' },
  'Sec-Fetch-Site: cross-site': { 'sec-fetch-site': 'cross-site', origin: '' },
  'Sec-Fetch-Site: same-site': { 'sec-fetch-site': 'same-site', origin: '' },
  'Origin: null (sandboxed frame)': { origin: 'null' },
  'our origin but Sec-Fetch-Site: cross-site': { 'sec-fetch-site': 'cross-site' },
};

/** Drops headers given as '' (so a variant can remove the browser's default Origin). */
function withoutEmpty(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== ''));
}

function assertRefused(response: LightMyRequestResponse, label: string): void {
  assert.equal(response.statusCode, 403, `${label}: ${response.statusCode} ${response.body.slice(0, 200)}`);
  assert.ok(response.body.includes('CSRF_REJECTED'), `${label}: ${response.body.slice(0, 200)}`);
  assert.equal(
    setSessionCookie(response),
    undefined,
    `${label}: a refused request must not set or clear the session cookie`,
  );
}

function setSessionCookie(response: LightMyRequestResponse): string | undefined {
  return response.cookies.find((c) => c.name.endsWith('twostep_session'))?.value;
}

interface FormCase {
  url: string;
  fields: Record<string, string>;
  /** The status of the same request from our own page with its token. */
  okStatus: number;
}

describe('portal forms', () => {
  test('every state-changing form refuses a cross-site post, even with a valid token, and changes nothing', async () => {
    const victim = await createVerifiedAccount(t);
    const browser = await signInBrowser(t, victim.email, victim.password);
    const other = await signInToken(t, victim.email);
    const sessions = await t.request({ method: 'GET', url: '/api/v1/sessions', headers: bearer(other) });
    const otherId = (sessions.json().sessions as { id: string; current: boolean }[]).find((s) => s.current)?.id;
    assert.ok(otherId);
    const pending = signUpFields();
    await t.request({ method: 'POST', url: '/api/v1/signup', payload: pending });
    const verifyToken = await verificationToken(t, pending.email);
    const newcomer = uniqueEmail('newcomer');

    const forms: FormCase[] = [
      { url: '/account/name', fields: { name: 'Owned By Evil' }, okStatus: 303 },
      {
        url: '/account/password',
        fields: { currentPassword: victim.password, newPassword: 'evil chose this passphrase' },
        okStatus: 303,
      },
      { url: `/account/sessions/${otherId}/revoke`, fields: {}, okStatus: 303 },
      { url: '/language', fields: { locale: 'nl', back: '/account' }, okStatus: 303 },
      { url: '/signout', fields: {}, okStatus: 303 },
      { url: '/signin', fields: { email: victim.email, password: victim.password }, okStatus: 303 },
      { url: '/verify-email', fields: { token: verifyToken }, okStatus: 200 },
      {
        url: '/signup',
        fields: { ...signUpFields({ email: newcomer }) },
        okStatus: 202,
      },
    ];
    const before = {
      victim: await accountState(victim.email),
      pending: await accountState(pending.email),
      newcomer: await accountState(newcomer),
    };
    assert.equal(before.victim.sessions.length, 2);
    assert.equal(before.pending.verified, false);
    assert.equal(before.newcomer.exists, false);

    for (const form of forms) {
      const token = await browser.formToken('/account');
      for (const [label, headers] of Object.entries(CROSS_SITE)) {
        const response = await browser.postForm(form.url, { _csrf: token, ...form.fields }, { headers });
        assertRefused(response, `${form.url} with ${label}`);
      }
      // A text/plain "form" is the classic way around preflight; it meets the same wall.
      const plain = await t.request({
        method: 'POST',
        url: form.url,
        headers: { origin: EVIL_ORIGIN, 'content-type': 'text/plain', cookie: browser.cookieHeader() },
        payload: `_csrf=${token}`,
      });
      assertRefused(plain, `${form.url} as text/plain`);
    }
    assert.deepEqual(await accountState(victim.email), before.victim);
    assert.deepEqual(await accountState(pending.email), before.pending);
    assert.deepEqual(await accountState(newcomer), before.newcomer);
    assert.equal((await browser.get('/account')).statusCode, 200, 'the victim is still signed in');
  });

  test('a form posted from our own origin without its token, or with a wrong one, is refused', async () => {
    const victim = await createVerifiedAccount(t);
    const browser = await signInBrowser(t, victim.email, victim.password);
    const token = await browser.formToken('/account');
    // A token that is valid, but for another browser's cookie: an attacker's own token.
    const attacker = new Browser(t);
    const attackerToken = await attacker.formToken('/signin');
    assert.notEqual(attackerToken, token);
    const wrongTokens: Record<string, Record<string, string>> = {
      'no _csrf field': {},
      'an empty _csrf': { _csrf: '' },
      "the attacker's own token": { _csrf: attackerToken },
      'a truncated token': { _csrf: token.slice(0, -1) },
      'a token with one character changed': { _csrf: `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` },
      'random text': { _csrf: 'x'.repeat(token.length) },
    };
    const before = await accountState(victim.email);
    for (const url of ['/account/name', '/account/password', '/language', '/signout']) {
      for (const [label, csrf] of Object.entries(wrongTokens)) {
        const response = await browser.postForm(url, {
          ...csrf,
          name: 'Changed Without Token',
          currentPassword: victim.password,
          newPassword: 'changed without a token',
          locale: 'nl',
        });
        assertRefused(response, `${url} with ${label}`);
      }
    }
    // The token is bound to the browser's cookie: without the cookie, even the right token fails.
    const cookieless = await t.request({
      method: 'POST',
      url: '/account/name',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: `twostep_session=${browser.session()}`,
      },
      payload: new URLSearchParams({ _csrf: token, name: 'No Csrf Cookie' }).toString(),
    });
    assertRefused(cookieless, 'the right token without its cookie');
    assert.deepEqual(await accountState(victim.email), before);
  });

  test('the same forms from our own page with the token succeed', async () => {
    const victim = await createVerifiedAccount(t);
    const browser = await signInBrowser(t, victim.email, victim.password);
    const rename = await browser.postForm('/account/name', {
      _csrf: await browser.formToken('/account'),
      name: 'Renamed By Owner',
    });
    assert.equal(rename.statusCode, 303);
    const language = await browser.postForm('/language', {
      _csrf: await browser.formToken('/account'),
      locale: 'nl',
      back: '/account',
    });
    assert.equal(language.statusCode, 303);
    const change = await browser.postForm('/account/password', {
      _csrf: await browser.formToken('/account'),
      currentPassword: victim.password,
      newPassword: 'lantern meadow quietly hums',
    });
    assert.equal(change.statusCode, 303, change.body.slice(0, 300));
    const state = await accountState(victim.email);
    assert.equal(state.name, 'Renamed By Owner');
    assert.equal(state.locale, 'nl');
    const signout = await browser.postForm('/signout', { _csrf: await browser.formToken('/account') });
    assert.equal(signout.statusCode, 303);
    assert.equal(browser.session(), undefined, 'sign-out clears the cookie');
    assert.ok((await accountState(victim.email)).sessions.every((s) => s.endsWith(':revoked')));
  });
});

describe('the JSON API', () => {
  /** Cookie-authenticated calls that change something, with the header set that makes them cross-site. */
  async function cookieCalls(cookie: string, sessionId: string) {
    return [
      { method: 'PATCH' as const, url: '/api/v1/me', payload: { name: 'Cross Site Name' } },
      {
        method: 'POST' as const,
        url: '/api/v1/password',
        payload: { currentPassword: GOOD_PASSWORD, newPassword: 'copper kettle drifts north' },
      },
      { method: 'DELETE' as const, url: `/api/v1/sessions/${sessionId}` },
      { method: 'POST' as const, url: '/api/v1/signout' },
    ].map((call) => ({ ...call, headers: { cookie } }));
  }

  test('cookie-authenticated calls from another site are refused and change nothing', async () => {
    const victim = await createVerifiedAccount(t);
    const browser = await signInBrowser(t, victim.email, victim.password);
    const me = await t.request({ method: 'GET', url: '/api/v1/me', headers: { cookie: browser.cookieHeader() } });
    assert.equal(me.statusCode, 200);
    const before = await accountState(victim.email);
    for (const call of await cookieCalls(browser.cookieHeader(), me.json().session.id)) {
      for (const [label, headers] of Object.entries(CROSS_SITE)) {
        const response = await t.request({ ...call, headers: withoutEmpty({ ...call.headers, ...headers }) });
        assertRefused(response, `${call.method} ${call.url} with ${label}`);
        assertErrorContract(response, `${call.method} ${call.url}`);
      }
    }
    // Signing a visitor in to the attacker's account (login CSRF) and creating accounts are refused too.
    for (const [url, payload] of [
      ['/api/v1/signin', { email: victim.email, password: victim.password }],
      ['/api/v1/signup', signUpFields()],
    ] as const) {
      const response = await t.request({ method: 'POST', url, headers: { origin: EVIL_ORIGIN }, payload });
      assertRefused(response, url);
    }
    assert.deepEqual(await accountState(victim.email), before);
  });

  test('the same cookie-authenticated calls from our own origin succeed', async () => {
    const victim = await createVerifiedAccount(t);
    const browser = await signInBrowser(t, victim.email, victim.password);
    const cookie = browser.cookieHeader();
    const sameOrigin = { origin: new URL(t.config.publicUrl).origin, 'sec-fetch-site': 'same-origin' };
    const me = await t.request({ method: 'GET', url: '/api/v1/me', headers: { cookie } });
    const [rename, password, revoke] = await cookieCalls(cookie, me.json().session.id);
    assert.ok(rename && password && revoke);
    const renamed = await t.request({ ...rename, headers: { ...rename.headers, ...sameOrigin } });
    assert.equal(renamed.statusCode, 200, renamed.body);
    const changed = await t.request({ ...password, headers: { ...password.headers, ...sameOrigin } });
    assert.equal(changed.statusCode, 200, changed.body);
    const revoked = await t.request({ ...revoke, headers: { ...revoke.headers, ...sameOrigin } });
    assert.equal(revoked.statusCode, 204, revoked.body);
    const state = await accountState(victim.email);
    assert.equal(state.name, 'Cross Site Name');
    assert.ok(state.sessions.every((s) => s.endsWith(':revoked')));
  });

  test('bearer-token calls carry no ambient credentials and are not subject to the origin check', async () => {
    const owner = await createVerifiedAccount(t);
    const token = await signInToken(t, owner.email);
    const renamed = await t.request({
      method: 'PATCH',
      url: '/api/v1/me',
      headers: { ...bearer(token), origin: EVIL_ORIGIN, 'sec-fetch-site': 'cross-site' },
      payload: { name: 'Bearer Client' },
    });
    assert.equal(renamed.statusCode, 200, renamed.body);
    assert.equal((await accountState(owner.email)).name, 'Bearer Client');
  });

  test('a malformed Authorization header does not let a cross-site request ride on the cookie', async () => {
    const victim = await createVerifiedAccount(t);
    const browser = await signInBrowser(t, victim.email, victim.password);
    const before = await accountState(victim.email);
    for (const authorization of ['Bearer', 'Bearer ', 'Bearer two words', 'Bearer\tx y', 'bearer  a b c']) {
      const response = await t.request({
        method: 'PATCH',
        url: '/api/v1/me',
        headers: { authorization, cookie: browser.cookieHeader(), origin: EVIL_ORIGIN, 'sec-fetch-site': 'cross-site' },
        payload: { name: 'Smuggled Past The Check' },
      });
      assert.ok([401, 403].includes(response.statusCode), `${authorization}: ${response.statusCode} ${response.body}`);
      assertErrorContract(response, authorization);
    }
    assert.deepEqual(await accountState(victim.email), before);
  });
});

describe('GET never changes anything', () => {
  test('a GET (or a prefetch of a link) on a state-changing URL gets 405 and changes no state', async () => {
    const victim = await createVerifiedAccount(t);
    const browser = await signInBrowser(t, victim.email, victim.password);
    const me = await t.request({ method: 'GET', url: '/api/v1/me', headers: { cookie: browser.cookieHeader() } });
    const sessionId = me.json().session.id as string;
    const pending = signUpFields();
    await t.request({ method: 'POST', url: '/api/v1/signup', payload: pending });
    const verifyToken = await verificationToken(t, pending.email);
    const before = { victim: await accountState(victim.email), pending: await accountState(pending.email) };
    const urls = [
      '/signout',
      `/account/sessions/${sessionId}/revoke`,
      '/account/name?name=Evil',
      '/account/password?currentPassword=x&newPassword=y',
      '/language?locale=nl',
      '/api/v1/signout',
      `/api/v1/sessions/${sessionId}`,
      '/api/v1/password',
      `/api/v1/email/verify?token=${verifyToken}`,
      // The emailed link itself only shows a button (a mail scanner following it confirms nothing).
      `/verify-email?token=${verifyToken}`,
    ];
    for (const url of urls) {
      const response = await browser.get(url, { 'sec-fetch-site': 'cross-site', origin: EVIL_ORIGIN });
      assert.equal(setSessionCookie(response), undefined, `${url} touched the session cookie`);
      if (url.startsWith('/verify-email')) {
        assert.equal(response.statusCode, 200, 'the emailed link shows a page');
        continue;
      }
      // SECURITY.md item 32: the URL exists, but not for GET.
      assert.equal(response.statusCode, 405, `${url}: ${response.statusCode}`);
      assert.ok(!String(response.headers.allow).includes('GET'), `${url}: Allow ${response.headers.allow}`);
      assert.match(String(response.headers.allow), /POST|DELETE|PATCH/, url);
    }
    assert.deepEqual(await accountState(victim.email), before.victim);
    assert.deepEqual(await accountState(pending.email), before.pending);
    assert.equal((await browser.get('/account')).statusCode, 200);
  });
});

/**
 * Every state-changing route the server registered, read from Fastify's route tree (one line per
 * node, indented four columns per level, `/:a|:b` where two parameters share a node), with each
 * parameter filled in: a new form or endpoint is in this list without anyone adding it.
 */
function stateChangingRoutes(): { method: HTTPMethods; url: string }[] {
  const routes: { method: HTTPMethods; url: string }[] = [];
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
    const tree = t.app.server.printRoutes({ commonPrefix: false, method });
    const stack: string[] = [];
    for (const line of tree.split('\n')) {
      const node = /^([│ ]*)[├└]── (\S+) \(([A-Z, ]+)\)$/.exec(line);
      if (!node) continue;
      const depth = (node[1] ?? '').length / 4;
      stack.length = depth;
      stack.push(node[2] ?? '');
      routes.push({ method, url: stack.join('').replace(/:[\w|:]+/g, 'x') });
    }
  }
  return routes;
}

describe('every registered route', () => {
  test('the route list is complete enough to mean something', () => {
    const routes = stateChangingRoutes();
    assert.ok(routes.length >= 80, `only ${routes.length} routes read from the tree`);
    for (const known of ['POST /signin', 'POST /account/name', 'PATCH /api/v1/me', 'DELETE /api/v1/sessions/x']) {
      assert.ok(
        routes.some((r) => `${r.method} ${r.url}` === known),
        `${known} missing from ${routes.length} routes`,
      );
    }
  });

  test('each state-changing route refuses a cross-site request from a signed-in browser with a valid form token', async () => {
    const victim = await createVerifiedAccount(t);
    const browser = await signInBrowser(t, victim.email, victim.password);
    const before = await accountState(victim.email);
    for (const route of stateChangingRoutes()) {
      const token = await browser.formToken('/account');
      for (const [label, headers] of Object.entries(CROSS_SITE)) {
        const response = await t.request({
          method: route.method,
          url: route.url,
          headers: withoutEmpty({
            accept: 'text/html',
            'content-type': 'application/x-www-form-urlencoded',
            origin: new URL(t.config.publicUrl).origin,
            cookie: browser.cookieHeader(),
            ...headers,
          }),
          payload: new URLSearchParams({ _csrf: token }).toString(),
        });
        assertRefused(response, `${route.method} ${route.url} with ${label}`);
      }
    }
    assert.deepEqual(await accountState(victim.email), before);
  });

  test('each portal and console form refuses a same-origin post without its token', async () => {
    // A two-step account with a fresh verification, so that no form turns the visitor away (to the
    // enrolment or the step-up) before it would read its token.
    const victim = await enrolTwoStep(t);
    const browser = new Browser(t);
    browser.cookies.set('twostep_session', victim.token);
    assert.equal((await browser.get('/account')).statusCode, 200);
    const before = await accountState(victim.email);
    const forms = stateChangingRoutes().filter((r) => r.method === 'POST' && !r.url.startsWith('/api/'));
    assert.ok(forms.length >= 60, `only ${forms.length} forms`);
    for (const form of forms) {
      const variants: Record<string, Record<string, string>> = {
        'no _csrf': {},
        'a wrong _csrf': { _csrf: 'x'.repeat(43) },
      };
      for (const [label, fields] of Object.entries(variants)) {
        const response = await browser.postForm(form.url, fields);
        assertRefused(response, `${form.url} with ${label}`);
      }
    }
    assert.deepEqual(await accountState(victim.email), before);
    assert.equal((await browser.get('/account')).statusCode, 200, 'the victim is still signed in');
  });
});
