// Staff must use two-step verification to reach the console (SPEC §3.15): the password alone opens
// nothing, a member without an authenticator can only set one up, codes are single-use, and
// customer sessions and console sessions never open each other's doors.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { totpCode } from '../../src/core/totp.ts';
import { GOOD_PASSWORD, startTestApp, type TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, signInToken } from '../helpers/journeys.ts';
import { consoleSession, createTestStaff, freshCode, staffBrowser, staffToken } from '../helpers/staff.ts';
import { Browser } from '../security/support.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(() => t.close());

describe('staff sign-in needs the password and an authenticator code', () => {
  test('password and code give a console session through the pages and the API', async () => {
    const staff = await createTestStaff(t, 'support');
    const browser = await staffBrowser(t, staff);
    assert.ok(consoleSession(browser));
    const page = await browser.get('/console/accounts');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Find an account/);
    const token = await staffToken(t, staff);
    const me = await t.request({ method: 'GET', url: '/api/v1/console/me', headers: bearer(token) });
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(me.json().role, 'support');
  });

  test('the password alone gives no session: every console page sends the browser to sign in', async () => {
    const staff = await createTestStaff(t, 'admin');
    const browser = new Browser(t);
    const first = await browser.postForm('/console/signin', {
      _csrf: await browser.formToken('/console/signin'),
      email: staff.email,
      password: staff.password,
    });
    assert.equal(first.statusCode, 303);
    assert.equal(consoleSession(browser), undefined);
    for (const url of ['/console/accounts', '/console/audit', '/console/admin/staff', '/console/admin/policy']) {
      const page = await browser.get(url);
      assert.equal(page.statusCode, 303, url);
      assert.equal(page.headers.location, '/console/signin', url);
    }
    const api = await t.request({
      method: 'POST',
      url: '/api/v1/console/signin',
      payload: { email: staff.email, password: staff.password, code: '' },
    });
    assert.equal(api.json().error.code, 'CODE_WRONG');
  });

  test('a wrong password and a wrong code are refused, and a used code cannot be used again', async () => {
    const staff = await createTestStaff(t, 'support');
    const wrongPassword = await t.request({
      method: 'POST',
      url: '/api/v1/console/signin',
      payload: { email: staff.email, password: 'not the password', code: freshCode(t, staff.secret as string) },
    });
    assert.equal(wrongPassword.statusCode, 401);
    assert.equal(wrongPassword.json().error.code, 'INVALID_CREDENTIALS');
    const code = freshCode(t, staff.secret as string);
    const wrongCode = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const refused = await t.request({
      method: 'POST',
      url: '/api/v1/console/signin',
      payload: { email: staff.email, password: staff.password, code: wrongCode },
    });
    assert.equal(refused.json().error.code, 'CODE_WRONG');
    const ok = await t.request({
      method: 'POST',
      url: '/api/v1/console/signin',
      payload: { email: staff.email, password: staff.password, code },
    });
    assert.equal(ok.statusCode, 200, ok.body);
    const replay = await t.request({
      method: 'POST',
      url: '/api/v1/console/signin',
      payload: { email: staff.email, password: staff.password, code },
    });
    assert.equal(replay.statusCode, 400);
    assert.equal(replay.json().error.code, 'CODE_WRONG');
  });

  test('a code from one step back is accepted, from two steps back or ahead is not', async () => {
    const staff = await createTestStaff(t, 'support');
    const secret = staff.secret as string;
    t.clock.advance(30_000);
    const now = t.clock.now().getTime();
    const attempt = (at: number) =>
      t.request({
        method: 'POST',
        url: '/api/v1/console/signin',
        payload: { email: staff.email, password: staff.password, code: totpCode(secret, new Date(at)) },
      });
    assert.equal((await attempt(now + 30_000)).statusCode, 400, 'a future code');
    assert.equal((await attempt(now - 60_000)).statusCode, 400, 'two steps back');
    assert.equal((await attempt(now - 30_000)).statusCode, 200, 'one step back');
  });

  test('a member without an authenticator sets one up before anything else, and then signs in with it', async () => {
    const staff = await createTestStaff(t, 'support', {});
    assert.equal(staff.secret, undefined);
    const api = await t.request({
      method: 'POST',
      url: '/api/v1/console/signin',
      payload: { email: staff.email, password: staff.password, code: '123456' },
    });
    assert.equal(api.statusCode, 403);
    assert.equal(api.json().error.code, 'STAFF_TWO_STEP_SETUP_REQUIRED');

    const browser = new Browser(t);
    const first = await browser.postForm('/console/signin', {
      _csrf: await browser.formToken('/console/signin'),
      email: staff.email,
      password: staff.password,
    });
    assert.equal(first.headers.location, '/console/signin/setup');
    // The code step and the console itself are not reachable yet.
    assert.equal((await browser.get('/console/signin/code')).headers.location, '/console/signin/setup');
    assert.equal((await browser.get('/console/accounts')).headers.location, '/console/signin');
    const setup = await browser.get('/console/signin/setup');
    assert.equal(setup.statusCode, 200);
    const secret = (/data-secret>([A-Z2-7 ]+)</.exec(setup.body)?.[1] ?? '').replace(/ /g, '');
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.match(setup.body, /otpauth:\/\/totp\//);
    // A reload shows the same key (it is stored sealed, not regenerated).
    assert.ok((await browser.get('/console/signin/setup')).body.includes(secret.slice(0, 4)));
    const bad = await browser.postForm('/console/signin/setup', {
      _csrf: await browser.formToken('/console/signin/setup'),
      code: '000000',
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(consoleSession(browser), undefined);
    const done = await browser.postForm('/console/signin/setup', {
      _csrf: await browser.formToken('/console/signin/setup'),
      code: freshCode(t, secret),
    });
    assert.equal(done.statusCode, 303, done.body.slice(0, 300));
    assert.equal(done.headers.location, '/console/accounts');
    assert.ok(consoleSession(browser));
    assert.equal((await browser.get('/console/accounts')).statusCode, 200);
    // From now on: password and code, through the API too.
    const token = await staffToken(t, { ...staff, secret });
    assert.ok(token);
    const stored = await t.app.services.store.staff.findById(staff.id);
    assert.ok(stored?.totp_confirmed_at);
    assert.ok(stored?.totp_secret_sealed && !stored.totp_secret_sealed.includes(secret), 'the key is stored sealed');
  });

  test('repeated failures are throttled with TOO_MANY_ATTEMPTS', async () => {
    const staff = await createTestStaff(t, 'support');
    let last = 0;
    for (let i = 0; i < 12; i += 1) {
      const response = await t.request({
        method: 'POST',
        url: '/api/v1/console/signin',
        payload: { email: staff.email, password: `wrong ${i}`, code: '000000' },
      });
      last = response.statusCode;
    }
    assert.equal(last, 429);
  });
});

describe('console sessions and customer sessions stay apart', () => {
  test('a customer session opens nothing in the console, a console token nothing in the portal', async () => {
    const customer = await createVerifiedAccount(t);
    const customerToken = await signInToken(t, customer.email, GOOD_PASSWORD);
    const refused = await t.request({ method: 'GET', url: '/api/v1/console/me', headers: bearer(customerToken) });
    assert.equal(refused.statusCode, 401);
    const page = await t.request({
      method: 'GET',
      url: '/console/accounts',
      headers: { accept: 'text/html', cookie: `twostep_session=${customerToken}; twostep_console=${customerToken}` },
    });
    assert.equal(page.statusCode, 303);
    const staff = await createTestStaff(t, 'admin');
    const token = await staffToken(t, staff);
    const me = await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });
    assert.equal(me.statusCode, 401);
  });

  test('a portal form token is refused by the console', async () => {
    const staff = await createTestStaff(t, 'support');
    const browser = await staffBrowser(t, staff);
    const portalToken = await browser.formToken('/signin');
    const response = await browser.postForm('/console/signout', { _csrf: portalToken });
    assert.equal(response.statusCode, 403);
    assert.ok(consoleSession(browser), 'still signed in');
  });

  test('sign-out ends the session; disabling a member or changing the role ends theirs', async () => {
    const staff = await createTestStaff(t, 'support');
    const browser = await staffBrowser(t, staff);
    const out = await browser.postForm('/console/signout', { _csrf: await browser.formToken('/console/accounts') });
    assert.equal(out.headers.location, '/console/signin');
    assert.equal((await browser.get('/console/accounts')).statusCode, 303);

    const token = await staffToken(t, staff);
    const admin = await createTestStaff(t, 'admin');
    const adminToken = await staffToken(t, admin);
    assert.equal(
      (await t.request({ method: 'GET', url: '/api/v1/console/me', headers: bearer(token) })).statusCode,
      200,
    );
    const adminBrowser = await staffBrowser(t, admin);
    const promoted = await adminBrowser.postForm(`/console/admin/staff/${staff.id}/role`, {
      _csrf: await adminBrowser.formToken('/console/admin/staff'),
      role: 'admin',
    });
    assert.equal(promoted.statusCode, 303, promoted.body.slice(0, 300));
    assert.equal(
      (await t.request({ method: 'GET', url: '/api/v1/console/me', headers: bearer(token) })).statusCode,
      401,
    );
    const again = await staffToken(t, staff);
    const disabled = await adminBrowser.postForm(`/console/admin/staff/${staff.id}/disable`, {
      _csrf: await adminBrowser.formToken('/console/admin/staff'),
    });
    assert.equal(disabled.statusCode, 303);
    assert.equal(
      (await t.request({ method: 'GET', url: '/api/v1/console/me', headers: bearer(again) })).statusCode,
      401,
    );
    const signIn = await t.request({
      method: 'POST',
      url: '/api/v1/console/signin',
      payload: { email: staff.email, password: staff.password, code: freshCode(t, staff.secret as string) },
    });
    assert.equal(signIn.statusCode, 401);
    assert.ok(adminToken);
  });
});
