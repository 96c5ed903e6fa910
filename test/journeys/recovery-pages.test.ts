// The recovery pages of the portal (SPEC §3.7–3.11), driven as a browser would with a cookie jar:
// the emailed link (opening it changes nothing, the form does, and a used link explains itself),
// the recovery key instead of a code after the password, and the unlock page for a locked account.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createVerifiedAccount } from '../helpers/journeys.ts';
import { resetLink } from '../helpers/recovery.ts';
import { enrolTwoStep, smsCode } from '../helpers/two-step.ts';
import { Browser } from '../security/support.ts';

const NEW_PASSWORD = 'amber lantern drifts slowly';

let t: TestApp;
before(async () => {
  t = await startTestApp({ PASSWORD_RESET_INTERVAL_SECONDS: '0', CODE_SEND_INTERVAL_SECONDS: '0' });
});
after(() => t.close());

function shownKey(body: string): string {
  const groups = [...body.matchAll(/<span class="key-group">([0-9A-Z]+)<\/span>/g)].map((m) => m[1]);
  return groups.join('-');
}

describe('recovery pages', () => {
  test('the emailed link: opening changes nothing, the form resets, a used link explains itself', async () => {
    const account = await createVerifiedAccount(t);
    const browser = new Browser(t);
    const asked = await browser.postForm('/forgot-password', {
      _csrf: await browser.formToken('/forgot-password'),
      email: account.email,
    });
    assert.equal(asked.statusCode, 200);
    assert.match(asked.body, /Check your email/);
    await t.app.services.background.drain();
    const link = new URL((await resetLink(t, account.email)) as string);
    const opened = await browser.get(`${link.pathname}${link.search}`);
    assert.equal(opened.statusCode, 200);
    assert.equal(opened.headers['referrer-policy'], 'no-referrer');
    assert.match(opened.body, /Choose a new password/);
    const opened2 = await browser.get(`${link.pathname}${link.search}`);
    assert.equal(opened2.statusCode, 200, 'opening it twice still works: nothing was used up');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(opened.body)?.[1] as string;
    const token = link.searchParams.get('token') as string;
    const done = await browser.postForm('/reset-password', { _csrf: csrf, token, newPassword: NEW_PASSWORD });
    assert.equal(done.statusCode, 200, done.body.slice(0, 300));
    assert.match(done.body, /Your password was changed/);
    const used = await browser.get(`${link.pathname}${link.search}`);
    assert.equal(used.statusCode, 400);
    assert.match(used.body, /cannot be used/);
  });

  test('after the password, the recovery key instead of a code signs in and shows a new key', async () => {
    const account = await enrolTwoStep(t);
    const browser = new Browser(t);
    const signedIn = await browser.postForm('/signin', {
      _csrf: await browser.formToken('/signin'),
      email: account.email,
      password: account.password,
    });
    assert.equal(signedIn.headers.location, '/signin/verify');
    const codeStep = await browser.get('/signin/verify');
    assert.match(codeStep.body, /href="\/signin\/recovery-key"/);
    const wrong = await browser.postForm('/signin/recovery-key', {
      _csrf: await browser.formToken('/signin/recovery-key'),
      recoveryKey: 'AAAA-AAAA-AAAA-AA',
    });
    assert.equal(wrong.statusCode, 400);
    assert.equal(browser.session(), undefined);
    const right = await browser.postForm('/signin/recovery-key', {
      _csrf: await browser.formToken('/signin/recovery-key'),
      recoveryKey: account.recoveryKey,
    });
    assert.equal(right.statusCode, 200, right.body.slice(0, 300));
    assert.ok(browser.session(), 'signed in');
    const newKey = shownKey(right.body);
    assert.match(newKey, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}$/);
    assert.notEqual(newKey, account.recoveryKey);
    const account2 = await browser.get('/account');
    assert.equal(account2.statusCode, 200);
  });

  test('a locked account: the sign-in page offers the unlock page, which needs the password and the key', async () => {
    const account = await enrolTwoStep(t);
    const stored = await t.app.services.store.accounts.findByEmail(account.email);
    await t.app.services.store.accounts.lock(stored?.id as string, t.clock.now());
    const browser = new Browser(t);
    const refused = await browser.postForm('/signin', {
      _csrf: await browser.formToken('/signin'),
      email: account.email,
      password: account.password,
    });
    assert.equal(refused.statusCode, 403);
    assert.match(refused.body, /href="\/unlock"/);
    const wrongPassword = await browser.postForm('/unlock', {
      _csrf: await browser.formToken('/unlock'),
      email: account.email,
      password: 'not the password at all',
      recoveryKey: account.recoveryKey,
    });
    assert.equal(wrongPassword.statusCode, 401);
    const unlocked = await browser.postForm('/unlock', {
      _csrf: await browser.formToken('/unlock'),
      email: account.email,
      password: account.password,
      recoveryKey: account.recoveryKey,
    });
    assert.equal(unlocked.statusCode, 200, unlocked.body.slice(0, 300));
    assert.ok(browser.session());
    assert.equal((await t.app.services.store.accounts.findByEmail(account.email))?.state, 'active');
  });

  test('the key, the code and the new password: no portal step can be skipped, reordered or replayed', async () => {
    const account = await enrolTwoStep(t);
    const browser = new Browser(t);
    const csrf = await browser.formToken('/forgot-password/key');
    const passwordUnchanged = async () => {
      const signIn = await t.request({
        method: 'POST',
        url: '/api/v1/signin',
        payload: { email: account.email, password: account.password },
      });
      assert.equal(signIn.json().status, 'two_step_required', 'the old password still works');
    };

    // Before the key: neither the code nor the new password is taken.
    const codeFirst = await browser.postForm('/forgot-password/code', { _csrf: csrf, code: '123456' });
    assert.equal(codeFirst.statusCode, 303);
    assert.equal(codeFirst.headers.location, '/forgot-password/key');
    const passwordFirst = await browser.postForm('/forgot-password/new-password', {
      _csrf: csrf,
      newPassword: NEW_PASSWORD,
    });
    assert.ok(passwordFirst.statusCode >= 400, String(passwordFirst.statusCode));
    assert.equal(browser.session(), undefined);
    await passwordUnchanged();

    // After the key, the new password still waits for the code.
    const key = await browser.postForm('/forgot-password/key', {
      _csrf: csrf,
      email: account.email,
      recoveryKey: account.recoveryKey,
    });
    assert.equal(key.headers.location, '/forgot-password/code');
    const recoveryCookie = browser.cookies.get('twostep_recovery');
    assert.ok(recoveryCookie);
    const skipped = await browser.postForm('/forgot-password/new-password', { _csrf: csrf, newPassword: NEW_PASSWORD });
    assert.equal(skipped.statusCode, 409);
    assert.match(skipped.body, /role="alert"/);
    assert.equal((await browser.get('/forgot-password/new-password')).headers.location, '/forgot-password/key');
    await passwordUnchanged();

    // The code, then the password; a replay of either is refused.
    const codePage = await browser.get('/forgot-password/code');
    const channel = /name="channel" value="(sms:[^"]+)"/.exec(codePage.body)?.[1];
    assert.ok(channel, 'the code page offers the trusted phone');
    await browser.postForm('/forgot-password/code/send', { _csrf: csrf, channel });
    const code = await smsCode(t, account.phone);
    const verified = await browser.postForm('/forgot-password/code', { _csrf: csrf, code });
    assert.equal(verified.headers.location, '/forgot-password/new-password');
    const codeAgain = await browser.postForm('/forgot-password/code', { _csrf: csrf, code });
    assert.equal(codeAgain.headers.location, '/forgot-password/key', 'the code step is over');
    const done = await browser.postForm('/forgot-password/new-password', { _csrf: csrf, newPassword: NEW_PASSWORD });
    assert.equal(done.statusCode, 200, done.body.slice(0, 300));
    browser.cookies.set('twostep_recovery', recoveryCookie);
    const replayed = await browser.postForm('/forgot-password/new-password', {
      _csrf: csrf,
      newPassword: 'yet another passphrase here',
    });
    assert.equal(replayed.statusCode, 409, 'the finished recovery cannot set a password again');
    const signIn = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: account.email, password: NEW_PASSWORD },
    });
    assert.equal(signIn.json().status, 'two_step_required', 'the password of the one finished recovery holds');
  });
});
