// Password & Security on an account WITH two-step verification on (SPEC §3.3, §3.4, §3.7): the portal
// adds, verifies and removes trusted phone numbers (never the last second step) and replaces a lost
// recovery key, each a protected change through the step-up page, which comes back to the form.
// Driven as a browser would.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, outboxFor, signInToken } from '../helpers/journeys.ts';
import { startRecovery } from '../helpers/recovery.ts';
import {
  addTrustedPhone,
  enrolTwoStep,
  otherCode,
  smsCode,
  type TwoStepAccount,
  uniqueMobile,
} from '../helpers/two-step.ts';
import { Browser } from '../security/support.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp({ CODE_SEND_INTERVAL_SECONDS: '0', CODE_SENDS_PER_HOUR: '100', SMS_PER_IP_PER_DAY: '10000' });
});
after(() => t.close());

const STALE = 10 * 60_000 + 1000;

/** A two-step account whose session is older than the recent-verification window, in a browser. */
async function staleBrowser(
  options: { secondPhone?: boolean } = {},
): Promise<{ account: TwoStepAccount; browser: Browser; csrf: string }> {
  const account = await enrolTwoStep(t);
  if (options.secondPhone) {
    // Added while the session is still fresh, a second later: the enrolled phone stays first in every
    // list, so the step-up texts it.
    t.clock.advance(1000);
    await addTrustedPhone(t, account.token);
  }
  const browser = new Browser(t);
  browser.cookies.set('twostep_session', account.token);
  const csrf = await browser.formToken('/account');
  t.clock.advance(STALE);
  return { account, browser, csrf };
}

/** Answers the step-up page with a code texted to `phone`, carrying its return address; returns the answer. */
async function stepUp(browser: Browser, csrf: string, phone: string, location: string) {
  const page = await browser.get(location);
  assert.equal(page.statusCode, 200, page.body.slice(0, 300));
  const channel = /name="channel" value="([^"]+)"/.exec(page.body)?.[1];
  assert.ok(channel, 'the step-up page offers the phone');
  const carried = /name="return" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  const sent = await browser.postForm('/account/verify/send', { _csrf: csrf, channel, return: carried });
  assert.equal(sent.statusCode, 200, sent.body.slice(0, 300));
  return browser.postForm('/account/verify', { _csrf: csrf, code: await smsCode(t, phone), return: carried });
}

async function apiPhones(account: TwoStepAccount): Promise<{ id: string; number: string; verified: boolean }[]> {
  const response = await t.request({ method: 'GET', url: '/api/v1/phones', headers: bearer(account.token) });
  return response.json().phones;
}

function shownKey(body: string): string {
  return [...body.matchAll(/<span class="key-group">([0-9A-Z]+)<\/span>/g)].map((m) => m[1]).join('-');
}

describe('trusted phone numbers on a two-step account', () => {
  test('Password & Security lists them; adding one asks for a code first, then texts the new number', async () => {
    const { account, browser, csrf } = await staleBrowser();
    const overview = await browser.get('/account');
    assert.match(overview.body, /<h3 id="phones">Trusted phone numbers<\/h3>/);
    assert.match(overview.body, new RegExp(`•••• ${account.phone.slice(-2)}`));
    assert.match(overview.body, /href="\/account\/phones"/);

    const page = await browser.get('/account/phones');
    assert.equal(page.statusCode, 303, 'the step-up comes first');
    assert.equal(page.headers.location, '/account/verify?return=%2Faccount%2Fphones');
    const done = await stepUp(browser, csrf, account.phone, page.headers.location as string);
    assert.equal(done.headers.location, '/account/phones');
    const form = await browser.get('/account/phones');
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /<label for="phone">/);

    const number = uniqueMobile();
    const added = await browser.postForm('/account/phones', { _csrf: csrf, number, return: '/account/phones' });
    assert.equal(added.statusCode, 303, added.body.slice(0, 300));
    const codePage = added.headers.location as string;
    assert.match(codePage, /^\/account\/phones\/[\w-]+$/);
    const code = await smsCode(t, number);
    const wrong = await browser.postForm(codePage, { _csrf: csrf, code: otherCode(code) });
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /role="alert"/);
    assert.equal((await apiPhones(account)).filter((p) => p.verified).length, 1, 'a wrong code trusts nothing');

    const verified = await browser.postForm(codePage, { _csrf: csrf, code });
    assert.equal(verified.statusCode, 303, verified.body.slice(0, 300));
    assert.match(verified.headers.location as string, /^\/account\?phone=[\w-]+#phones$/);
    const after = await browser.get((verified.headers.location as string).replace(/#.*/, ''));
    assert.match(after.body, new RegExp(`Your phone number •••• ${number.slice(-2)} is verified\\.`));
    assert.equal((await apiPhones(account)).filter((p) => p.verified).length, 2);
    const mails = await outboxFor(t, account.email);
    assert.ok(mails.some((m) => m.subject === 'A trusted phone number was added'));
  });

  test('a stale add is sent through the step-up page and adds nothing', async () => {
    const { account, browser, csrf } = await staleBrowser();
    const number = uniqueMobile();
    const refused = await browser.postForm('/account/phones', { _csrf: csrf, number, return: '/account/phones' });
    assert.equal(refused.statusCode, 303);
    assert.equal(refused.headers.location, '/account/verify?return=%2Faccount%2Fphones');
    assert.equal((await apiPhones(account)).length, 1);
    assert.deepEqual(
      (await outboxFor(t, number)).filter((m) => m.channel === 'sms'),
      [],
    );
  });

  test('removing one is a protected change that comes back to the removal page', async () => {
    // Two trusted phones: the last one of a two-step account is never removed (the test below).
    const { account, browser, csrf } = await staleBrowser({ secondPhone: true });
    const [phone, other] = await apiPhones(account);
    assert.ok(phone && other);
    const confirmPage = `/account/phones/${phone.id}/remove`;
    const page = await browser.get(confirmPage);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Remove phone number/);
    const refused = await browser.postForm(confirmPage, { _csrf: csrf, return: confirmPage });
    assert.equal(refused.statusCode, 303);
    assert.equal(refused.headers.location, `/account/verify?return=${encodeURIComponent(confirmPage)}`);
    assert.equal((await apiPhones(account)).length, 2, 'nothing removed without the code');
    const done = await stepUp(browser, csrf, account.phone, refused.headers.location as string);
    assert.equal(done.headers.location, confirmPage);
    const removed = await browser.postForm(confirmPage, { _csrf: csrf, return: confirmPage });
    assert.equal(removed.statusCode, 303);
    assert.equal(removed.headers.location, '/account?saved=phone-removed#phones');
    assert.deepEqual(await apiPhones(account), [other]);
    assert.match((await browser.get('/account?saved=phone-removed')).body, /The phone number was removed\./);
  });

  test('the last trusted phone stays: the removal page says why, in English and in Dutch', async () => {
    const account = await enrolTwoStep(t);
    const browser = new Browser(t);
    browser.cookies.set('twostep_session', account.token);
    const [phone] = await apiPhones(account);
    assert.ok(phone);
    const form = `/account/phones/${phone.id}/remove`;
    const csrf = await browser.formToken(form);
    const refused = await browser.postForm(form, { _csrf: csrf, return: form });
    assert.equal(refused.statusCode, 409);
    assert.match(
      refused.body,
      /role="alert">This is the last way to receive a verification code\. Add another trusted device, phone number, authenticator app or security key first, or turn two-step verification off\./,
    );
    assert.match(refused.body, new RegExp(`action="${form}"`), 'the removal form is shown again');
    browser.cookies.set('twostep_lang', 'nl');
    const dutch = await browser.postForm(form, { _csrf: csrf, return: form });
    assert.equal(dutch.statusCode, 409);
    assert.match(dutch.body, /role="alert">Dit is de laatste manier om een verificatiecode te ontvangen\./);
    assert.deepEqual(await apiPhones(account), [phone]);
  });

  test("another account's phone or challenge is not found", async () => {
    const owner = await enrolTwoStep(t);
    const { browser, csrf } = await staleBrowser();
    const [phone] = await apiPhones(owner);
    assert.ok(phone);
    assert.equal((await browser.get(`/account/phones/${phone.id}/remove`)).statusCode, 404);
    assert.equal((await browser.postForm(`/account/phones/${phone.id}/remove`, { _csrf: csrf })).statusCode, 404);
    assert.equal((await apiPhones(owner)).length, 1);
  });

  test('the pages speak Dutch', async () => {
    const { account, browser } = await staleBrowser();
    browser.cookies.set('twostep_lang', 'nl');
    const overview = await browser.get('/account');
    assert.match(overview.body, /Vertrouwde telefoonnummers/);
    assert.match(overview.body, /Verloren sleutel vervangen/);
    const [phone] = await apiPhones(account);
    const remove = await browser.get(`/account/phones/${phone?.id}/remove`);
    assert.match(remove.body, /Telefoonnummer verwijderen/);
  });
});

describe('Replace lost key', () => {
  test('needs a code first; the old key dies at once; the new key is shown once and typed back', async () => {
    const { account, browser, csrf } = await staleBrowser();
    const overview = await browser.get('/account');
    assert.match(overview.body, /<h3 id="recovery-key">Recovery key<\/h3>/);
    assert.match(overview.body, /href="\/account\/recovery-key">Replace lost key/);
    const twoStep = await browser.get('/account/two-step');
    assert.match(twoStep.body, /href="\/account\/recovery-key">Replace lost key/, 'the two-step page leads here too');
    assert.match(twoStep.body, /href="\/account\/phones">Add a phone number/);

    const page = await browser.get('/account/recovery-key');
    assert.equal(page.statusCode, 303);
    assert.equal(page.headers.location, '/account/verify?return=%2Faccount%2Frecovery-key');
    const stale = await browser.postForm('/account/recovery-key', { _csrf: csrf, return: '/account/recovery-key' });
    assert.equal(stale.headers.location, '/account/verify?return=%2Faccount%2Frecovery-key');
    assert.equal((await startRecovery(t, account.email, account.recoveryKey)).statusCode, 200, 'still the old key');

    const done = await stepUp(browser, csrf, account.phone, page.headers.location as string);
    assert.equal(done.headers.location, '/account/recovery-key');
    const intro = await browser.get('/account/recovery-key');
    assert.equal(intro.statusCode, 200);
    assert.match(intro.body, /Your current key stops working the moment the new one is made/);

    const made = await browser.postForm('/account/recovery-key', { _csrf: csrf, return: '/account/recovery-key' });
    assert.equal(made.statusCode, 200, made.body.slice(0, 300));
    assert.equal(made.headers['cache-control'], 'no-store');
    const key = shownKey(made.body);
    assert.match(key, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}$/);
    assert.notEqual(key, account.recoveryKey);
    assert.match(made.body, /action="\/account\/two-step\/recovery-key\/print"/);
    assert.match(made.body, /action="\/account\/two-step\/recovery-key\/download"/);
    assert.match(made.body, /href="\/account\/recovery-key\/confirm"/);

    const old = await startRecovery(t, account.email, account.recoveryKey);
    assert.equal(old.statusCode, 400, 'the old key died when the new one was made');
    assert.equal(old.json().error.code, 'RECOVERY_KEY_WRONG');

    const printed = await browser.postForm('/account/two-step/recovery-key/print', { _csrf: csrf, recoveryKey: key });
    assert.equal(printed.statusCode, 200);
    assert.equal(shownKey(printed.body), key);
    const file = await browser.postForm('/account/two-step/recovery-key/download', { _csrf: csrf, recoveryKey: key });
    assert.match(String(file.headers['content-disposition']), /attachment/);
    assert.ok(file.body.includes(key));

    const typo = await browser.postForm('/account/recovery-key/confirm', {
      _csrf: csrf,
      recoveryKey: account.recoveryKey,
    });
    assert.equal(typo.statusCode, 400);
    assert.match(typo.body, /role="alert">That is not your recovery key\./);
    const confirmed = await browser.postForm('/account/recovery-key/confirm', {
      _csrf: csrf,
      recoveryKey: key.toLowerCase().replaceAll('-', ' '),
    });
    assert.equal(confirmed.statusCode, 303, confirmed.body.slice(0, 300));
    assert.equal(confirmed.headers.location, '/account?saved=recovery-key#recovery-key');
    assert.match((await browser.get('/account?saved=recovery-key')).body, /Your new recovery key is confirmed\./);
    assert.equal((await startRecovery(t, account.email, key)).statusCode, 200, 'the new key works');
    const mails = await outboxFor(t, account.email);
    assert.ok(mails.some((m) => m.subject === 'Your recovery key was replaced'));
  });

  test('an account without two-step verification is sent to the enrolment', async () => {
    const fields = await createVerifiedAccount(t);
    const browser = new Browser(t);
    browser.cookies.set('twostep_session', await signInToken(t, fields.email));
    const page = await browser.get('/account/recovery-key');
    assert.equal(page.statusCode, 303);
    assert.equal(page.headers.location, '/account/two-step');
    const overview = await browser.get('/account');
    assert.match(overview.body, /Trusted phone numbers/);
    assert.doesNotMatch(overview.body, /Replace lost key/);
  });
});
