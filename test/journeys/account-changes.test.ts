// SPEC §3.3 "every account change needs a recent two-step verification": the email address (with a
// link to the new address), the date of birth and the country, through the JSON API and the portal;
// and the step-up detour that comes back to the form the user was on.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GOOD_PASSWORD, startTestApp, type TestApp, uniqueEmail } from '../helpers/app.ts';
import { pairDevice } from '../helpers/devices.ts';
import { bearer, createVerifiedAccount, type OutboxEntry, outboxFor, signInToken } from '../helpers/journeys.ts';
import { enrolTwoStep, smsCode, type TwoStepAccount } from '../helpers/two-step.ts';
import { Browser } from '../security/support.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp({ CODE_SEND_INTERVAL_SECONDS: '0', CODE_SENDS_PER_HOUR: '100', SMS_PER_IP_PER_DAY: '10000' });
});
after(() => t.close());

const STALE = 10 * 60_000 + 1000;

async function patchMe(token: string, payload: Record<string, unknown>) {
  return t.request({ method: 'PATCH', url: '/api/v1/me', headers: bearer(token), payload });
}

async function askEmailChange(token: string, newEmail: string, currentPassword = GOOD_PASSWORD) {
  return t.request({
    method: 'POST',
    url: '/api/v1/me/email',
    headers: bearer(token),
    payload: { newEmail, currentPassword },
  });
}

function linkIn(mail: OutboxEntry | undefined, path: string): string | undefined {
  return mail?.links.find((l) => new URL(l).pathname === path);
}

function tokenOf(link: string): string {
  return new URL(link).searchParams.get('token') as string;
}

/** The token of the newest email-change link sent to this address. */
async function changeToken(address: string): Promise<string | undefined> {
  const mail = (await outboxFor(t, address)).find((m) => linkIn(m, '/confirm-email-change'));
  const link = linkIn(mail, '/confirm-email-change');
  return link ? tokenOf(link) : undefined;
}

async function confirmChange(token: string) {
  return t.request({ method: 'POST', url: '/api/v1/me/email/confirm', payload: { token } });
}

async function events(token: string): Promise<string[]> {
  const response = await t.request({ method: 'GET', url: '/api/v1/activity', headers: bearer(token) });
  return response.json().events.map((e: { event: string }) => e.event);
}

describe('date of birth and country', () => {
  test('are changed through PATCH /api/v1/me, checked like sign-up, and the owner is emailed', async () => {
    const fields = await createVerifiedAccount(t, { country: 'NL', birthDate: '1990-04-01' });
    const token = await signInToken(t, fields.email);
    const changed = await patchMe(token, { birthDate: '1985-12-24', country: 'be' });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal(changed.json().account.birthDate, '1985-12-24');
    assert.equal(changed.json().account.country, 'BE', 'normalized like sign-up');
    const me = (await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(token) })).json();
    assert.equal(me.account.birthDate, '1985-12-24');
    assert.equal(me.account.country, 'BE');

    const subjects = (await outboxFor(t, fields.email)).map((m) => m.subject);
    assert.ok(subjects.includes('Your date of birth was changed'), subjects.join(', '));
    const countryMail = (await outboxFor(t, fields.email)).find(
      (m) => m.subject === 'Your country or region was changed',
    );
    assert.ok(countryMail);
    assert.match(countryMail.body, /Belgium \(BE\)/);
    assert.ok(linkIn(countryMail, '/not-me'), 'the notice carries a "This wasn\'t me" link');
    const recorded = await events(token);
    assert.ok(recorded.includes('account.birth_date_changed'));
    assert.ok(recorded.includes('account.country_changed'));
  });

  test('bad values get their stable codes and change nothing', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email);
    const cases: [Record<string, unknown>, string][] = [
      [{ birthDate: '2100-01-01' }, 'INVALID_BIRTH_DATE'],
      [{ birthDate: '1990-02-30' }, 'INVALID_BIRTH_DATE'],
      [{ birthDate: 'yesterday' }, 'INVALID_BIRTH_DATE'],
      [{ country: 'XX' }, 'INVALID_COUNTRY'],
      [{ country: 'NL', birthDate: '1899-12-31' }, 'INVALID_BIRTH_DATE'],
      [{}, 'VALIDATION_FAILED'],
      [{ email: 'x@example.com' }, 'VALIDATION_FAILED'],
    ];
    for (const [payload, code] of cases) {
      const response = await patchMe(token, payload);
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
      assert.equal(response.json().error.code, code, JSON.stringify(payload));
    }
    const me = (await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(token) })).json();
    assert.equal(me.account.country, fields.country, 'a refused batch wrote none of its fields');
    assert.equal(me.account.birthDate, fields.birthDate);
  });

  test('the country decides whether two-step verification is available', async () => {
    await t.app.services.store.rollout.set([{ country: 'SE', twoStep: false, sms: false, wave: null }], t.clock.now());
    const fields = await createVerifiedAccount(t, { country: 'NL' });
    const token = await signInToken(t, fields.email);
    const status = async () =>
      (await t.request({ method: 'GET', url: '/api/v1/two-step', headers: bearer(token) })).json().available;
    assert.equal(await status(), true);
    assert.equal((await patchMe(token, { country: 'SE' })).statusCode, 200);
    assert.equal(await status(), false);
  });

  test('where two-step verification has not arrived, the portal says so instead of offering it, in English and Dutch', async () => {
    await t.app.services.store.rollout.set([{ country: 'SE', twoStep: false, sms: false, wave: null }], t.clock.now());
    const fields = await createVerifiedAccount(t, { country: 'SE' });
    const browser = new Browser(t);
    browser.cookies.set('twostep_session', await signInToken(t, fields.email));
    const account = await browser.get('/account');
    assert.equal(account.statusCode, 200);
    assert.match(account.body, /Not yet available in your country/);
    assert.doesNotMatch(account.body, /href="\/account\/two-step">Get started/);
    const start = await browser.get('/account/two-step');
    assert.match(start.body, /Two-step verification is not yet available in your country or region\./);
    const step = await browser.get('/account/two-step/devices');
    assert.equal(step.statusCode, 303, 'no enrolment step opens');
    assert.equal(step.headers.location, '/account/two-step');

    browser.cookies.set('twostep_lang', 'nl');
    assert.match((await browser.get('/account')).body, /Nog niet beschikbaar in uw land/);
    assert.match(
      (await browser.get('/account/two-step')).body,
      /Verificatie in twee stappen is nog niet beschikbaar in uw land of regio\./,
    );

    // The same page for an account where it is available offers it.
    const elsewhere = await createVerifiedAccount(t, { country: 'NL' });
    const other = new Browser(t);
    other.cookies.set('twostep_session', await signInToken(t, elsewhere.email));
    const offered = await other.get('/account');
    assert.match(offered.body, /href="\/account\/two-step">Get started/);
    assert.doesNotMatch(offered.body, /Not yet available in your country/);
  });

  test('on a two-step account they need a recent verification', async () => {
    const account = await enrolTwoStep(t);
    t.clock.advance(STALE);
    const stale = await patchMe(account.token, { birthDate: '1970-01-01' });
    assert.equal(stale.statusCode, 403);
    assert.equal(stale.json().error.code, 'STEP_UP_REQUIRED');
    const staleEmail = await askEmailChange(account.token, uniqueEmail('stale'), account.password);
    assert.equal(staleEmail.json().error.code, 'STEP_UP_REQUIRED');
  });
});

describe('changing the email address', () => {
  test('needs the current password; the change happens only when the link to the new address is followed', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email);
    const newEmail = uniqueEmail('moved');

    const wrong = await askEmailChange(token, newEmail, 'not my password at all');
    assert.equal(wrong.statusCode, 403);
    assert.equal(wrong.json().error.code, 'CURRENT_PASSWORD_WRONG');
    assert.equal(await changeToken(newEmail), undefined, 'nothing sent without the password');

    const asked = await askEmailChange(token, `  ${newEmail.toUpperCase()} `);
    assert.equal(asked.statusCode, 202, asked.body);
    assert.deepEqual(asked.json(), { status: 'check_email' });
    const link = linkIn((await outboxFor(t, newEmail))[0], '/confirm-email-change');
    assert.ok(link, 'the new (normalized) address got the link');
    assert.ok(link.startsWith(`${t.config.publicUrl}/confirm-email-change?token=`), 'host from configuration');
    const notice = (await outboxFor(t, fields.email))[0];
    assert.equal(notice?.subject, 'A change of your email address was requested');
    assert.match(notice?.body ?? '', new RegExp(newEmail.replace(/\./g, '\\.')));
    assert.ok(linkIn(notice, '/not-me'));

    // Not yet: the old address still signs in, the new one does not.
    const me = await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });
    assert.equal(me.json().account.email, fields.email);
    const early = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: newEmail, password: fields.password },
    });
    assert.equal(early.statusCode, 401);

    const token2 = tokenOf(link);
    const confirmed = await confirmChange(token2);
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    assert.deepEqual(confirmed.json(), { status: 'changed', email: newEmail });
    assert.equal((await confirmChange(token2)).json().error.code, 'INVALID_TOKEN', 'the link works once');

    const done = (await outboxFor(t, fields.email))[0];
    assert.equal(done?.subject, 'Your email address was changed', 'the old address is told');
    assert.ok(linkIn(done, '/not-me'));
    const old = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: fields.email, password: fields.password },
    });
    assert.equal(old.statusCode, 401);
    const fresh = await signInToken(t, newEmail, fields.password);
    const now = await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(fresh) });
    assert.equal(now.json().account.email, newEmail);
    assert.equal(now.json().account.emailVerified, true);
    const recorded = await events(fresh);
    assert.ok(recorded.includes('account.email_change_requested'));
    assert.ok(recorded.includes('account.email_changed'));
  });

  test('the token is stored only as a hash', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email);
    const newEmail = uniqueEmail('hashed');
    await askEmailChange(token, newEmail);
    const secret = await changeToken(newEmail);
    assert.ok(secret);
    const rows = await t.database.db.selectFrom('email_tokens').selectAll().where('new_email', '=', newEmail).execute();
    assert.equal(rows.length, 1);
    assert.notEqual(rows[0]?.token_hash, secret);
    assert.ok(!JSON.stringify(rows).includes(secret));
  });

  test('an address of another account gets the same answer; nothing changes and its owner is told', async () => {
    const owner = await createVerifiedAccount(t);
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email);
    const ownerMailsBefore = (await outboxFor(t, owner.email)).length;

    const taken = await askEmailChange(token, owner.email.toUpperCase());
    const free = await askEmailChange(token, uniqueEmail('free'));
    assert.equal(taken.statusCode, free.statusCode);
    assert.deepEqual(taken.json(), free.json());

    const ownerMails = await outboxFor(t, owner.email);
    assert.equal(ownerMails.length, ownerMailsBefore + 1);
    assert.equal(ownerMails[0]?.subject, 'Someone tried to use your email address');
    assert.equal(linkIn(ownerMails[0], '/confirm-email-change'), undefined, 'no link that could move it');
    // The requester's own mailbox is told about both requests alike.
    const notices = (await outboxFor(t, fields.email)).filter(
      (m) => m.subject === 'A change of your email address was requested',
    );
    assert.equal(notices.length, 2);
    await signInToken(t, owner.email, owner.password);
    const me = await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });
    assert.equal(me.json().account.email, fields.email);
  });

  test('an address taken between the request and the link is refused at the link', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email);
    const contested = uniqueEmail('contested');
    await askEmailChange(token, contested);
    const link = await changeToken(contested);
    assert.ok(link);
    await createVerifiedAccount(t, { email: contested });
    const refused = await confirmChange(link);
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().error.code, 'EMAIL_TAKEN');
    const me = await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });
    assert.equal(me.json().account.email, fields.email);
  });

  test('only the newest link works, and links expire', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email);
    const first = uniqueEmail('first');
    const second = uniqueEmail('second');
    await askEmailChange(token, first);
    await askEmailChange(token, second);
    const firstLink = await changeToken(first);
    assert.ok(firstLink);
    assert.equal((await confirmChange(firstLink)).json().error.code, 'INVALID_TOKEN');
    const secondLink = await changeToken(second);
    assert.ok(secondLink);
    t.clock.advance(t.config.policy.emailTokenHours * 3_600_000 + 1000);
    assert.equal((await confirmChange(secondLink)).json().error.code, 'INVALID_TOKEN');
  });

  test('bad requests get stable codes', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email);
    const invalid = await askEmailChange(token, 'not an address');
    assert.equal(invalid.statusCode, 400);
    assert.equal(invalid.json().error.code, 'INVALID_EMAIL');
    const same = await askEmailChange(token, fields.email.toUpperCase());
    assert.equal(same.statusCode, 400);
    assert.equal(same.json().error.code, 'EMAIL_UNCHANGED');
    for (const bad of ['', 'short', 'A'.repeat(43), `${'A'.repeat(42)}\u0000`]) {
      const response = await confirmChange(bad);
      assert.equal(response.statusCode, 400, JSON.stringify(bad));
      assert.equal(response.json().error.code, 'INVALID_TOKEN');
    }
    const anonymous = await t.request({
      method: 'POST',
      url: '/api/v1/me/email',
      payload: { newEmail: uniqueEmail(), currentPassword: GOOD_PASSWORD },
    });
    assert.equal(anonymous.statusCode, 401);
  });

  test('a few requests an hour, so nobody can flood an address', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email);
    for (let i = 0; i < 5; i += 1) assert.equal((await askEmailChange(token, uniqueEmail('flood'))).statusCode, 202);
    const refused = await askEmailChange(token, uniqueEmail('flood'));
    assert.equal(refused.statusCode, 429);
    assert.ok(Number(refused.headers['retry-after']) > 0);
  });
});

describe('the portal', () => {
  /** A browser holding this session token as its cookie, with its form token. */
  async function browserWith(sessionToken: string): Promise<{ browser: Browser; csrf: string }> {
    const browser = new Browser(t);
    browser.cookies.set('twostep_session', sessionToken);
    return { browser, csrf: await browser.formToken('/account') };
  }

  test('date of birth and country forms save with a notice; a bad value is shown beside its form', async () => {
    const fields = await createVerifiedAccount(t);
    const { browser, csrf } = await browserWith(await signInToken(t, fields.email));
    const page = await browser.get('/account');
    assert.match(page.body, /action="\/account\/birth-date"/);
    assert.match(page.body, /action="\/account\/country"/);
    assert.match(page.body, /href="\/account\/email"/);

    const saved = await browser.postForm('/account/birth-date', { _csrf: csrf, birthDate: '1979-05-06' });
    assert.equal(saved.statusCode, 303);
    assert.equal(saved.headers.location, '/account?saved=birth-date#birth-date');
    const after = await browser.get('/account?saved=birth-date');
    assert.match(after.body, /Your date of birth was saved\./);
    assert.match(after.body, /May 6, 1979/);

    const country = await browser.postForm('/account/country', { _csrf: csrf, country: 'DE' });
    assert.equal(country.headers.location, '/account?saved=country#country-form');
    assert.match((await browser.get('/account')).body, /<dd>Germany<\/dd>/);

    const bad = await browser.postForm('/account/birth-date', { _csrf: csrf, birthDate: '2999-01-01' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /role="alert">Enter a real date of birth/);
    const forged = await browser.postForm('/account/country', { _csrf: 'forged', country: 'FR' });
    assert.equal(forged.statusCode, 403, 'CSRF-protected like the other forms');
    assert.match((await browser.get('/account')).body, /<dd>Germany<\/dd>/);
  });

  test('the email page sends the link; the link opens a page whose button confirms', async () => {
    const fields = await createVerifiedAccount(t);
    const { browser } = await browserWith(await signInToken(t, fields.email));
    const csrf = await browser.formToken('/account/email');
    const newEmail = uniqueEmail('portal');
    const wrong = await browser.postForm('/account/email', {
      _csrf: csrf,
      newEmail,
      currentPassword: 'wrong password here',
    });
    assert.equal(wrong.statusCode, 403);
    assert.match(wrong.body, /Your current password is not correct\./);
    assert.match(wrong.body, new RegExp(`value="${newEmail.replace(/\./g, '\\.')}"`), 'the address stays typed');

    const sent = await browser.postForm('/account/email', { _csrf: csrf, newEmail, currentPassword: GOOD_PASSWORD });
    assert.equal(sent.statusCode, 303);
    assert.equal(sent.headers.location, '/account?saved=email-sent#profile');
    assert.match((await browser.get('/account?saved=email-sent')).body, /Check the new mailbox/);

    const link = linkIn((await outboxFor(t, newEmail))[0], '/confirm-email-change');
    assert.ok(link);
    const url = `${new URL(link).pathname}${new URL(link).search}`;
    // Someone else's browser (a mail scanner) opening the link changes nothing.
    const visitor = new Browser(t);
    const opened = await visitor.get(url);
    assert.equal(opened.statusCode, 200);
    assert.equal(opened.headers['referrer-policy'], 'no-referrer');
    const me = await t.request({ method: 'GET', url: '/api/v1/me', headers: { cookie: browser.cookieHeader() } });
    assert.equal(me.json().account.email, fields.email);
    const confirmed = await visitor.postForm('/confirm-email-change', {
      _csrf: await visitor.formToken(url),
      token: tokenOf(link),
    });
    assert.equal(confirmed.statusCode, 200);
    assert.match(confirmed.body, /Email address changed/);
    const moved = await t.request({ method: 'GET', url: '/api/v1/me', headers: { cookie: browser.cookieHeader() } });
    assert.equal(moved.json().account.email, newEmail);
  });
});

describe('the step-up comes back to the form', () => {
  async function stepUpBrowser(): Promise<{ browser: Browser; csrf: string; phone: string; account: TwoStepAccount }> {
    const account = await enrolTwoStep(t);
    // A device paired while the session was fresh, for the device forms.
    await pairDevice(t, account.token, 'Form phone');
    const browser = new Browser(t);
    browser.cookies.set('twostep_session', account.token);
    const csrf = await browser.formToken('/account');
    t.clock.advance(STALE);
    return { browser, csrf, phone: account.phone, account };
  }

  async function me(account: TwoStepAccount) {
    return (await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(account.token) })).json();
  }

  async function deviceOf(account: TwoStepAccount): Promise<{ id: string; trusted: boolean } | undefined> {
    const listed = await t.request({ method: 'GET', url: '/api/v1/devices', headers: bearer(account.token) });
    return listed.json().devices[0];
  }

  /** Answers the step-up page the way its forms do, carrying `returnTo` along; returns the final answer. */
  async function verify(browser: Browser, csrf: string, phone: string, returnTo: string) {
    const page = await browser.get(`/account/verify?return=${encodeURIComponent(returnTo)}`);
    const channel = /name="channel" value="([^"]+)"/.exec(page.body)?.[1];
    assert.ok(channel, 'the step-up page offers the phone');
    const carried = /name="return" value="([^"]+)"/.exec(page.body)?.[1];
    const sent = await browser.postForm('/account/verify/send', { _csrf: csrf, channel, return: carried ?? '' });
    assert.equal(sent.statusCode, 200, sent.body.slice(0, 300));
    return browser.postForm('/account/verify', { _csrf: csrf, code: await smsCode(t, phone), return: carried ?? '' });
  }

  test('a stale form post goes to the step-up page and, after the code, back to that form', async () => {
    const { browser, csrf, phone } = await stepUpBrowser();
    const refused = await browser.postForm('/account/birth-date', {
      _csrf: csrf,
      birthDate: '1960-01-01',
      return: '/account#birth-date',
    });
    assert.equal(refused.statusCode, 303);
    assert.equal(refused.headers.location, '/account/verify?return=%2Faccount%23birth-date');
    const done = await verify(browser, csrf, phone, '/account#birth-date');
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, '/account#birth-date');
    // Now the same form goes through.
    const saved = await browser.postForm('/account/birth-date', { _csrf: csrf, birthDate: '1960-01-01' });
    assert.equal(saved.headers.location, '/account?saved=birth-date#birth-date');
  });

  test('the name form: through the step-up and back to it, then saved', async () => {
    const { browser, csrf, phone, account } = await stepUpBrowser();
    const post = () =>
      browser.postForm('/account/name', { _csrf: csrf, name: 'Late Name', return: '/account#profile' });
    const refused = await post();
    assert.equal(refused.statusCode, 303);
    assert.equal(refused.headers.location, '/account/verify?return=%2Faccount%23profile');
    assert.equal((await me(account)).account.name, 'Ann Example', 'nothing saved before the step-up');
    const done = await verify(browser, csrf, phone, '/account#profile');
    assert.equal(done.headers.location, '/account#profile');
    assert.equal((await post()).headers.location, '/account?saved=name#profile');
    assert.equal((await me(account)).account.name, 'Late Name');
  });

  test('the password form: through the step-up and back to it, then changed', async () => {
    const { browser, csrf, phone, account } = await stepUpBrowser();
    const post = () =>
      browser.postForm('/account/password', {
        _csrf: csrf,
        currentPassword: GOOD_PASSWORD,
        newPassword: 'stepped up passphrase words',
        return: '/account#security',
      });
    const refused = await post();
    assert.equal(refused.headers.location, '/account/verify?return=%2Faccount%23security');
    const done = await verify(browser, csrf, phone, '/account#security');
    assert.equal(done.headers.location, '/account#security');
    assert.equal((await post()).headers.location, '/account?saved=password#security');
    const signin = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: account.email, password: 'stepped up passphrase words' },
    });
    assert.equal(signin.json().status, 'two_step_required', 'the new password is the one that works');
  });

  test("a device's verify button: through the step-up and back to the account page, then the code is pushed", async () => {
    const { browser, csrf, phone, account } = await stepUpBrowser();
    const device = await deviceOf(account);
    assert.ok(device);
    const post = () => browser.postForm(`/account/devices/${device.id}/verify`, { _csrf: csrf });
    const refused = await post();
    assert.equal(refused.headers.location, '/account/verify?return=%2Faccount');
    const done = await verify(browser, csrf, phone, '/account');
    assert.equal(done.headers.location, '/account');
    const started = await post();
    assert.equal(started.statusCode, 303);
    assert.match(String(started.headers.location), new RegExp(`^/account/devices/${device.id}/verify/[^/?]+$`));
  });

  test("a device's remove form: through the step-up and back to it, then removed", async () => {
    const { browser, csrf, phone, account } = await stepUpBrowser();
    const device = await deviceOf(account);
    assert.ok(device);
    const formPath = `/account/devices/${device.id}/remove`;
    const form = await browser.get(formPath);
    const carried = /name="return" value="([^"]+)"/.exec(form.body)?.[1];
    assert.equal(carried, formPath);
    const post = () => browser.postForm(formPath, { _csrf: csrf, return: carried ?? '' });
    const refused = await post();
    assert.equal(refused.headers.location, `/account/verify?return=${encodeURIComponent(formPath)}`);
    assert.ok(await deviceOf(account), 'not removed before the step-up');
    const done = await verify(browser, csrf, phone, formPath);
    assert.equal(done.headers.location, formPath);
    assert.equal((await browser.get(formPath)).statusCode, 200);
    assert.equal((await post()).headers.location, '/account?saved=device-removed#devices');
    assert.equal(await deviceOf(account), undefined);
  });

  test('the email page asks for the code first and comes back to itself', async () => {
    const { browser, csrf, phone } = await stepUpBrowser();
    const page = await browser.get('/account/email');
    assert.equal(page.statusCode, 303);
    assert.equal(page.headers.location, '/account/verify?return=%2Faccount%2Femail');
    const done = await verify(browser, csrf, phone, '/account/email');
    assert.equal(done.headers.location, '/account/email');
    const form = await browser.get('/account/email');
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /name="newEmail"/);
  });

  test('a return address to another site never leaves this one', async () => {
    const { browser, csrf, phone } = await stepUpBrowser();
    for (const evil of ['https://evil.example/x', '//evil.example', '/\\evil.example', 'javascript:alert(1)']) {
      const refused = await browser.postForm('/account/country', { _csrf: csrf, country: 'FR', return: evil });
      assert.equal(refused.headers.location, '/account/verify?return=%2Faccount', evil);
      const page = await browser.get(`/account/verify?return=${encodeURIComponent(evil)}`);
      assert.match(page.body, /name="return" value="\/account"/, evil);
    }
    // Even posted straight to the step-up form, a foreign return address ends at the account page.
    const page = await browser.get('/account/verify');
    const channel = /name="channel" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    await browser.postForm('/account/verify/send', { _csrf: csrf, channel, return: '//evil.example' });
    const done = await browser.postForm('/account/verify', {
      _csrf: csrf,
      code: await smsCode(t, phone),
      return: '//evil.example',
    });
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, '/account');
  });
});
