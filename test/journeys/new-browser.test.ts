// SPEC §3.17 "sign-in from a new device/browser": every sign-in from a browser the account has not
// seen emails the owner, with or without two-step verification, and a known browser does not; a code
// sign-in sends exactly one notice.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createVerifiedAccount, outboxFor } from '../helpers/journeys.ts';
import { answer, enrolTwoStep, passwordStep, sendCode, smsCode } from '../helpers/two-step.ts';
import { Browser, setCookieLines } from '../security/support.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp({ CODE_SEND_INTERVAL_SECONDS: '0', CODE_SENDS_PER_HOUR: '100', SMS_PER_IP_PER_DAY: '10000' });
});
after(() => t.close());

const NOTICE = 'New sign-in to your account';

async function notices(email: string): Promise<number> {
  return (await outboxFor(t, email)).filter((m) => m.subject === NOTICE).length;
}

function markerOf(response: LightMyRequestResponse): string | undefined {
  return response.cookies.find((c) => c.name === 'twostep_browser')?.value;
}

async function apiSignIn(email: string, password: string, cookie?: string): Promise<LightMyRequestResponse> {
  const response = await t.request({
    method: 'POST',
    url: '/api/v1/signin',
    payload: { email, password },
    headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', ...(cookie ? { cookie } : {}) },
  });
  assert.equal(response.statusCode, 200, response.body);
  return response;
}

describe('accounts without two-step verification', () => {
  test('a password sign-in from a new browser emails the owner; from a known one it does not', async () => {
    const fields = await createVerifiedAccount(t);
    assert.equal(await notices(fields.email), 0);

    const first = await apiSignIn(fields.email, fields.password);
    assert.equal(await notices(fields.email), 1);
    const mail = (await outboxFor(t, fields.email))[0];
    assert.match(mail?.body ?? '', /Firefox on Linux at 127\.0\.0\.1 \(local network\)/);
    assert.match(mail?.body ?? '', /with its password/);
    assert.ok(
      mail?.links.some((l) => l.includes('/not-me?token=')),
      'with a "This wasn\'t me" link',
    );

    const marker = markerOf(first);
    assert.ok(marker, 'the answer sets the known-browser marker');
    const line = setCookieLines(first).find((l) => l.startsWith('twostep_browser='));
    assert.match(line ?? '', /HttpOnly/i);
    assert.match(line ?? '', /SameSite=Lax/i);

    const again = await apiSignIn(fields.email, fields.password, `twostep_browser=${marker}`);
    assert.equal(await notices(fields.email), 1, 'a known browser is not news');
    assert.equal(markerOf(again), marker, 'the same marker is renewed');

    await apiSignIn(fields.email, fields.password);
    assert.equal(await notices(fields.email), 2, 'a client without the marker is new every time');
    await apiSignIn(fields.email, fields.password, 'twostep_browser=not-a-real-marker');
    assert.equal(await notices(fields.email), 3, 'a mangled marker is no marker');
  });

  test('a browser is known per account, only for a while, and only as a hash', async () => {
    const ann = await createVerifiedAccount(t);
    const bob = await createVerifiedAccount(t);
    const marker = markerOf(await apiSignIn(ann.email, ann.password));
    assert.ok(marker);
    const cookie = `twostep_browser=${marker}`;
    const bobs = await apiSignIn(bob.email, bob.password, cookie);
    assert.equal(await notices(bob.email), 1, 'known to Ann is new to Bob');
    assert.equal(markerOf(bobs), marker, 'one browser, one marker, several accounts');
    await apiSignIn(ann.email, ann.password, cookie);
    assert.equal(await notices(ann.email), 1, 'and still known to Ann');

    const rows = await t.database.db.selectFrom('known_browsers').selectAll().execute();
    assert.ok(rows.length >= 2);
    assert.ok(!JSON.stringify(rows).includes(marker), 'the marker itself is never stored');

    t.clock.advance((t.config.policy.knownBrowserDays + 1) * 86_400_000);
    await apiSignIn(ann.email, ann.password, cookie);
    assert.equal(await notices(ann.email), 2, 'a browser not seen for months is new again');
  });

  test('the portal sign-in form works the same way', async () => {
    const fields = await createVerifiedAccount(t);
    const browser = new Browser(t);
    const signIn = async (): Promise<void> => {
      const response = await browser.postForm('/signin', {
        _csrf: await browser.formToken('/signin'),
        email: fields.email,
        password: fields.password,
      });
      assert.equal(response.statusCode, 303);
      browser.cookies.delete('twostep_session');
    };
    await signIn();
    assert.equal(await notices(fields.email), 1);
    assert.ok(browser.cookies.get('twostep_browser'));
    await signIn();
    assert.equal(await notices(fields.email), 1);
    browser.cookies.delete('twostep_browser');
    await signIn();
    assert.equal(await notices(fields.email), 2);
  });

  test('a wrong password never sends a notice', async () => {
    const fields = await createVerifiedAccount(t);
    const wrong = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: fields.email, password: 'not the password at all' },
    });
    assert.equal(wrong.statusCode, 401);
    assert.equal(markerOf(wrong), undefined);
    assert.equal(await notices(fields.email), 0);
  });
});

describe('accounts with two-step verification', () => {
  test('a code sign-in sends one notice and makes the browser known; a trusted browser then sends none', async () => {
    const account = await enrolTwoStep(t);
    const before = await notices(account.email);
    const challenge = await passwordStep(t, account.email, account.password);
    assert.equal(await notices(account.email), before, 'the password step alone sends nothing');
    await sendCode(t, challenge.id, challenge.channels[0]?.id ?? '');
    const done = await answer(t, challenge.id, await smsCode(t, account.phone), { trustBrowser: true });
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(await notices(account.email), before + 1, 'exactly one notice for a code sign-in');
    const mail = (await outboxFor(t, account.email))[0];
    assert.match(mail?.body ?? '', /with a verification code/);

    const marker = markerOf(done);
    const trusted = done.cookies.find((c) => c.name === 'twostep_trusted')?.value;
    assert.ok(marker && trusted);
    const again = await apiSignIn(
      account.email,
      account.password,
      `twostep_browser=${marker}; twostep_trusted=${trusted}`,
    );
    assert.equal(again.json().status, 'signed_in');
    assert.equal(await notices(account.email), before + 1, 'the trusted, known browser is not news');
  });
});
