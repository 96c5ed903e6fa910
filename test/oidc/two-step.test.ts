// Two-step verification on every path (SPEC §3.14, SECURITY.md item 10): a service sign-in of a 2SV
// account from a browser it does not trust needs a code before the service gets an authorization
// code; acr_values asks for two-step, prompt=login and max_age ask for a fresh sign-in.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { GOOD_PASSWORD, startListeningTestApp, type TestApp } from '../helpers/app.ts';
import { connect, pairDevice } from '../helpers/devices.ts';
import { bearer, createVerifiedAccount } from '../helpers/journeys.ts';
import { addService, authorizationRequest, Browser, exchange, type TestService } from '../helpers/oidc.ts';
import { registerSoftKey } from '../helpers/security-keys.ts';
import { answer, enrolTwoStep, smsCode, type TwoStepAccount } from '../helpers/two-step.ts';

const TWO_STEP = 'urn:twostep:acr:two-step';

describe('OpenID Connect: two-step verification', () => {
  let t: TestApp & { baseUrl: string };
  let service: TestService;

  before(async () => {
    // Several codes per account within seconds: the 30-second send interval would get in the way.
    t = await startListeningTestApp({ CODE_SEND_INTERVAL_SECONDS: '0' });
    service = await addService(t);
  });
  after(() => t.close());

  /** Password, then a code by SMS; returns where the browser went after the code. */
  async function signInWithCode(
    browser: Browser,
    account: TwoStepAccount,
    url: URL,
    options: { trust?: boolean } = {},
  ): Promise<URL | undefined> {
    await browser.go(url.toString());
    assert.match(browser.page, /Sign in to Messages/);
    assert.equal(await browser.submit('/login', { email: account.email, password: GOOD_PASSWORD }), undefined);
    assert.match(browser.page, /Confirm it’s you|code/i);
    await browser.submit('/verify/send', { channel: browser.field('channel') });
    assert.equal(browser.status, 200, browser.page);
    return browser.submit('/verify', {
      code: await smsCode(t, account.phone),
      ...(options.trust ? { trustBrowser: 'yes' } : {}),
    });
  }

  test('an untrusted browser needs a code before the service gets anything', async () => {
    const account = await enrolTwoStep(t);
    const browser = new Browser(t.baseUrl);
    const request = await authorizationRequest(service);
    await browser.go(request.url.toString());
    assert.equal(await browser.submit('/login', { email: account.email, password: GOOD_PASSWORD }), undefined);
    // The password alone gave no session and no way back to the service.
    assert.match(browser.page, /name="code"/);
    assert.ok(![...browser.cookies.keys()].some((name) => name.endsWith('twostep_session')), 'no session yet');
    const resume = [...browser.cookies.entries()].find(([name]) => name.startsWith('_interaction_resume'));
    assert.ok(resume);
    const early = await browser.go(`/oidc/auth/${resume[1].value}`);
    assert.ok(early === undefined || !early.searchParams.has('code'), 'no authorization code before the code step');

    const request2 = await authorizationRequest(service);
    const browser2 = new Browser(t.baseUrl);
    assert.equal(await signInWithCode(browser2, account, request2.url), undefined);
    assert.match(browser2.page, /Allow Messages/);
    const callback = await browser2.submit('/consent');
    assert.ok(callback);
    const claims = (await exchange(service, request2, callback)).claims();
    assert.equal(claims?.acr, TWO_STEP);
    assert.deepEqual(claims?.amr, ['pwd', 'sms', 'mfa']);
  });

  test('a code pushed to a trusted device signs in with amr otp', async () => {
    const account = await enrolTwoStep(t);
    const device = await pairDevice(t, account.token, 'Ann phone');
    const live = connect(t.baseUrl, device);
    await live.connection.ready;
    const verify = await t.request({
      method: 'POST',
      url: `/api/v1/devices/${device.id}/verify`,
      headers: bearer(account.token),
    });
    assert.equal(verify.statusCode, 202, verify.body);
    const pairing = verify.json().challenge.id;
    const pairingCode = await live.next((m) => m.type === 'code' && m.challengeId === pairing);
    const trusted = await answer(t, pairing, String(pairingCode.code), {}, bearer(account.token));
    assert.equal(trusted.statusCode, 200, trusted.body);

    const browser = new Browser(t.baseUrl);
    const request = await authorizationRequest(service);
    await browser.go(request.url.toString());
    await browser.submit('/login', { email: account.email, password: GOOD_PASSWORD });
    const deviceChannel = [...browser.page.matchAll(/name="channel" value="([^"]+)"/g)]
      .map((m) => m[1] as string)
      .find((id) => !id.startsWith('sms:'));
    assert.ok(deviceChannel, browser.page);
    await browser.submit('/verify/send', { channel: deviceChannel });
    const pushed = await live.next((m) => m.type === 'code' && m.purpose === 'sign_in');
    await browser.submit('/verify', { code: String(pushed.code) });
    const callback = await browser.submit('/consent');
    assert.ok(callback, browser.page);
    const claims = (await exchange(service, request, callback)).claims();
    assert.equal(claims?.acr, TWO_STEP);
    assert.deepEqual(claims?.amr, ['pwd', 'otp', 'mfa']);
    live.connection.close();
  });

  test('a security key answers the code step, and the ID token says amr hwk', async () => {
    const account = await enrolTwoStep(t);
    const { key } = await registerSoftKey(t, account.token);
    const browser = new Browser(t.baseUrl);
    const request = await authorizationRequest(service);
    await browser.go(request.url.toString());
    await browser.submit('/login', { email: account.email, password: GOOD_PASSWORD });
    // The code step carries the WebAuthn options for this sign-in in its security-key form.
    const carried = /data-webauthn="get" data-options="([^"]+)"/.exec(browser.page)?.[1];
    assert.ok(carried, 'the code step offers the security key');
    const requestOptions = JSON.parse(carried.replaceAll('&quot;', '"').replaceAll('&amp;', '&'));
    await browser.submit('/verify', { credential: JSON.stringify(key.authenticate(requestOptions)) });
    const callback = await browser.submit('/consent');
    assert.ok(callback, browser.page);
    const claims = (await exchange(service, request, callback)).claims();
    assert.equal(claims?.acr, TWO_STEP);
    assert.deepEqual(claims?.amr, ['pwd', 'hwk', 'mfa']);
  });

  test('a code from an authenticator app signs in with amr otp, even after an SMS was sent', async () => {
    const account = await enrolTwoStep(t);
    const started = await t.request({
      method: 'POST',
      url: '/api/v1/authenticators',
      headers: bearer(account.token),
      payload: { label: 'Phone app' },
    });
    assert.equal(started.statusCode, 201, started.body);
    const app = new TOTP({ secret: Secret.fromBase32(started.json().secret), digits: 6, period: 30 });
    /** The app's code after moving to the next 30-second step: each step's code is accepted once. */
    const appCode = (): string => {
      t.clock.advance(30_000);
      return app.generate({ timestamp: t.clock.now().getTime() });
    };
    const confirmed = await t.request({
      method: 'POST',
      url: `/api/v1/authenticators/${started.json().authenticator.id}/confirm`,
      headers: bearer(account.token),
      payload: { code: appCode() },
    });
    assert.equal(confirmed.statusCode, 200, confirmed.body);

    // Straight from the app, nothing sent.
    const browser = new Browser(t.baseUrl);
    const request = await authorizationRequest(service);
    await browser.go(request.url.toString());
    await browser.submit('/login', { email: account.email, password: GOOD_PASSWORD });
    await browser.submit('/verify', { code: appCode() });
    const callback = await browser.submit('/consent');
    assert.ok(callback, browser.page);
    const claims = (await exchange(service, request, callback)).claims();
    assert.equal(claims?.acr, TWO_STEP);
    assert.deepEqual(claims?.amr, ['pwd', 'otp', 'mfa']);

    // An SMS was sent but the app's code answered: the token says how the user really signed in.
    const other = new Browser(t.baseUrl);
    const second = await authorizationRequest(service);
    await other.go(second.url.toString());
    await other.submit('/login', { email: account.email, password: GOOD_PASSWORD });
    await other.submit('/verify/send', { channel: other.field('channel') });
    assert.ok(await smsCode(t, account.phone), 'an SMS went out');
    await other.submit('/verify', { code: appCode() });
    const back = await other.submit('/consent');
    assert.ok(back, other.page);
    assert.deepEqual((await exchange(service, second, back)).claims()?.amr, ['pwd', 'otp', 'mfa']);
  });

  test('a wrong code is refused on the page and gives the service nothing', async () => {
    const account = await enrolTwoStep(t);
    const browser = new Browser(t.baseUrl);
    const request = await authorizationRequest(service);
    await browser.go(request.url.toString());
    await browser.submit('/login', { email: account.email, password: GOOD_PASSWORD });
    await browser.submit('/verify/send', { channel: browser.field('channel') });
    const code = await smsCode(t, account.phone);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    assert.equal(await browser.submit('/verify', { code: wrong }), undefined);
    assert.equal(browser.status, 400);
    assert.match(browser.page, /name="code"/);
  });

  test('a trusted browser signs in with the password alone, until a service asks for two-step', async () => {
    const account = await enrolTwoStep(t);
    const browser = new Browser(t.baseUrl);
    const first = await authorizationRequest(service);
    await signInWithCode(browser, account, first.url, { trust: true });
    const callback = await browser.submit('/consent');
    assert.ok(callback);
    await exchange(service, first, callback);

    // A fresh sign-in (prompt=login) on this trusted browser: password only, and the token says so.
    const fresh = await authorizationRequest(service, { prompt: 'login' });
    await browser.go(fresh.url.toString());
    assert.match(browser.page, /Sign in to Messages/, 'prompt=login asks again despite the session');
    const passwordOnly = await browser.submit('/login', { email: account.email, password: GOOD_PASSWORD });
    assert.ok(passwordOnly, browser.page);
    const claims = (await exchange(service, fresh, passwordOnly)).claims();
    assert.equal(claims?.acr, 'urn:twostep:acr:password');
    assert.deepEqual(claims?.amr, ['pwd']);

    // Now the service wants two-step: the session and the trusted browser are not enough.
    const stepUp = await authorizationRequest(service, { acr_values: TWO_STEP });
    await browser.go(stepUp.url.toString());
    assert.match(browser.page, /asks for two-step verification/);
    const afterCode = await signInWithCode(browser, account, stepUp.url);
    assert.ok(afterCode, browser.page);
    const strong = (await exchange(service, stepUp, afterCode)).claims();
    assert.equal(strong?.acr, TWO_STEP);
    assert.deepEqual(strong?.amr, ['pwd', 'sms', 'mfa']);

    // And a two-step session satisfies the next such request without asking again.
    const again = await authorizationRequest(service, { acr_values: TWO_STEP });
    const silent = await browser.go(again.url.toString());
    assert.ok(silent, browser.page);
    assert.equal((await exchange(service, again, silent)).claims()?.acr, TWO_STEP);
  });

  test('an account without two-step verification cannot give it: the service gets an error', async () => {
    const account = await createVerifiedAccount(t);
    const browser = new Browser(t.baseUrl);
    const request = await authorizationRequest(service, { acr_values: TWO_STEP });
    await browser.go(request.url.toString());
    const callback = await browser.submit('/login', { email: account.email, password: GOOD_PASSWORD });
    assert.ok(callback, browser.page);
    assert.equal(callback.searchParams.get('error'), 'unmet_authentication_requirements');
    assert.equal(callback.searchParams.get('code'), null);
  });

  test('max_age=0 asks for the password again, and auth_time is the new sign-in', async () => {
    const account = await createVerifiedAccount(t);
    const browser = new Browser(t.baseUrl);
    const first = await authorizationRequest(service);
    await browser.go(first.url.toString());
    await browser.submit('/login', { email: account.email, password: GOOD_PASSWORD });
    const callback = await browser.submit('/consent');
    assert.ok(callback);
    const firstTime = (await exchange(service, first, callback)).claims()?.auth_time as number;

    await new Promise((resolve) => setTimeout(resolve, 1100)); // auth_time has a one-second resolution
    const again = await authorizationRequest(service, { max_age: '0' });
    await browser.go(again.url.toString());
    assert.match(browser.page, /Sign in to Messages/);
    const second = await browser.submit('/login', { email: account.email, password: GOOD_PASSWORD });
    assert.ok(second, browser.page);
    const secondTime = (await exchange(service, again, second)).claims()?.auth_time as number;
    assert.ok(secondTime > firstTime, `${secondTime} > ${firstTime}`);
  });
});
