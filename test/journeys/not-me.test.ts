// SPEC §3.17 "each with 'This wasn't me'": every security email carries a single-use link; it opens a
// page that changes nothing until its button is pressed, and then the account is signed out
// everywhere, its trusted and known browsers are forgotten, its pending challenges die, and the owner
// is sent on to choose a new password.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, uniqueEmail } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, type OutboxEntry, outboxFor, signInToken } from '../helpers/journeys.ts';
import { answer, enrolTwoStep, passwordStep, sendCode, smsCode } from '../helpers/two-step.ts';
import { Browser } from '../security/support.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp({ CODE_SEND_INTERVAL_SECONDS: '0', CODE_SENDS_PER_HOUR: '100', SMS_PER_IP_PER_DAY: '10000' });
});
after(() => t.close());

function notMeLink(mail: OutboxEntry | undefined): string | undefined {
  return mail?.links.find((l) => new URL(l).pathname === '/not-me');
}

async function newestNotMe(email: string, subject: string): Promise<string> {
  const mail = (await outboxFor(t, email)).find((m) => m.subject === subject);
  const link = notMeLink(mail);
  assert.ok(link, `no "This wasn't me" link in "${subject}" to ${email}`);
  return link;
}

function pathOf(link: string): string {
  const url = new URL(link);
  return `${url.pathname}${url.search}`;
}

function tokenOf(link: string): string {
  return new URL(link).searchParams.get('token') as string;
}

async function isSignedIn(token: string): Promise<boolean> {
  return (await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(token) })).statusCode === 200;
}

async function changePassword(token: string, currentPassword: string, newPassword: string): Promise<void> {
  const changed = await t.request({
    method: 'POST',
    url: '/api/v1/password',
    headers: bearer(token),
    payload: { currentPassword, newPassword },
  });
  assert.equal(changed.statusCode, 200, changed.body);
}

describe('the link in a security email', () => {
  test('opens a page that changes nothing; its button signs out everywhere and points to a new password', async () => {
    const fields = await createVerifiedAccount(t);
    const first = await signInToken(t, fields.email);
    const second = await signInToken(t, fields.email);
    await changePassword(first, fields.password, 'a brand new passphrase');
    const link = await newestNotMe(fields.email, 'Your password was changed');
    assert.ok(link.startsWith(`${t.config.publicUrl}/not-me?token=`), 'the host comes from configuration');

    const owner = new Browser(t);
    const page = await owner.get(pathOf(link));
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['referrer-policy'], 'no-referrer', 'the token never leaks as a Referer');
    assert.match(page.body, /You are reporting the email “Your password was changed”/);
    assert.match(page.body, /<form method="post" action="\/not-me">/);
    // Opening it twice (a mail scanner, then the owner) still changes nothing.
    await owner.get(pathOf(link));
    assert.ok(await isSignedIn(first), 'GET never acts');

    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const forged = await owner.postForm('/not-me', { _csrf: 'forged', token: tokenOf(link) });
    assert.equal(forged.statusCode, 403);
    assert.ok(await isSignedIn(first), 'a forged form does nothing');

    const done = await owner.postForm('/not-me', { _csrf: csrf, token: tokenOf(link) });
    assert.equal(done.statusCode, 200, done.body.slice(0, 300));
    assert.equal(done.headers['referrer-policy'], 'no-referrer');
    assert.match(done.body, /href="\/forgot-password"/);
    assert.equal(await isSignedIn(first), false);
    assert.equal(await isSignedIn(second), false);

    const confirmation = (await outboxFor(t, fields.email))[0];
    assert.equal(confirmation?.subject, 'Your account was signed out everywhere');
    assert.ok(confirmation?.links.includes(`${t.config.publicUrl}/forgot-password`));
    assert.equal(notMeLink(confirmation), undefined);

    const fresh = await signInToken(t, fields.email, 'a brand new passphrase');
    const activity = await t.request({ method: 'GET', url: '/api/v1/activity', headers: bearer(fresh) });
    const reported = activity.json().events.find((e: { event: string }) => e.event === 'account.not_me_reported');
    assert.ok(reported, 'the report is in the recent activity');

    const reused = await owner.postForm('/not-me', { _csrf: csrf, token: tokenOf(link) });
    assert.equal(reused.statusCode, 400, 'the link works once');
    assert.match(reused.body, /This link is not valid any more/);
    assert.ok(await isSignedIn(fresh));
  });

  test('forgets trusted and known browsers and cancels a pending sign-in challenge', async () => {
    const account = await enrolTwoStep(t);
    const challenge = await passwordStep(t, account.email, account.password);
    await sendCode(t, challenge.id, challenge.channels[0]?.id ?? '');
    const done = await answer(t, challenge.id, await smsCode(t, account.phone), { trustBrowser: true });
    const cookieOf = (name: string): string => `${name}=${done.cookies.find((c) => c.name === name)?.value ?? ''}`;
    const cookie = `${cookieOf('twostep_trusted')}; ${cookieOf('twostep_browser')}`;
    const trusted = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: account.email, password: account.password },
      headers: { cookie },
    });
    assert.equal(trusted.json().status, 'signed_in', 'trusted before the report');

    // Someone who knows the password is waiting for a code.
    const pending = await passwordStep(t, account.email, account.password);
    await sendCode(t, pending.id, pending.channels[0]?.id ?? '');
    const pendingCode = await smsCode(t, account.phone);

    const link = await newestNotMe(account.email, 'New sign-in to your account');
    const reported = await t.request({ method: 'POST', url: '/api/v1/not-me', payload: { token: tokenOf(link) } });
    assert.equal(reported.statusCode, 200, reported.body);
    assert.equal(reported.json().status, 'secured');
    assert.ok(reported.json().sessionsRevoked >= 2);
    assert.equal(reported.json().challengesCancelled, 1);
    assert.equal(reported.json().emailRestored, null);

    assert.equal((await answer(t, pending.id, pendingCode)).json().error.code, 'CHALLENGE_CLOSED');
    const after = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: account.email, password: account.password },
      headers: { cookie },
    });
    assert.equal(after.json().status, 'two_step_required', 'the trusted browser is forgotten');
    const count = await t.database.db
      .selectFrom('known_browsers')
      .innerJoin('accounts', 'accounts.id', 'known_browsers.account_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('accounts.email', '=', account.email)
      .executeTakeFirstOrThrow();
    assert.equal(Number(count.n), 0, 'the known browsers are forgotten');
  });

  test('every security email has its own link, and one report uses them all', async () => {
    const account = await enrolTwoStep(t);
    const mails = await outboxFor(t, account.email);
    for (const subject of [
      'New sign-in to your account',
      'A trusted phone number was added',
      'Two-step verification is on',
    ]) {
      assert.ok(notMeLink(mails.find((m) => m.subject === subject)), subject);
    }
    const links = mails.map(notMeLink).filter((l): l is string => l !== undefined);
    assert.equal(new Set(links).size, links.length, 'a token per email');
    const [newest, older] = links;
    assert.ok(newest && older);
    const first = await t.request({ method: 'POST', url: '/api/v1/not-me', payload: { token: tokenOf(older) } });
    assert.equal(first.statusCode, 200, "an older email's link works too");
    const second = await t.request({ method: 'POST', url: '/api/v1/not-me', payload: { token: tokenOf(newest) } });
    assert.equal(second.json().error.code, 'INVALID_TOKEN');
  });

  test('links expire, are stored only as hashes, and bad tokens get INVALID_TOKEN', async () => {
    const fields = await createVerifiedAccount(t);
    await signInToken(t, fields.email);
    const link = await newestNotMe(fields.email, 'New sign-in to your account');
    const rows = await t.database.db.selectFrom('not_me_tokens').selectAll().execute();
    assert.ok(!JSON.stringify(rows).includes(tokenOf(link)));

    for (const token of ['', 'short', 'A'.repeat(43), `${tokenOf(link).slice(0, 42)}\u0000`]) {
      const api = await t.request({ method: 'POST', url: '/api/v1/not-me', payload: { token } });
      assert.equal(api.statusCode, 400, JSON.stringify(token));
      assert.equal(api.json().error.code, 'INVALID_TOKEN');
      const page = await new Browser(t).get(`/not-me?token=${encodeURIComponent(token)}`);
      assert.equal(page.statusCode, 400);
      assert.doesNotMatch(page.body, /action="\/not-me"/, 'no button for a dead link');
    }

    t.clock.advance(t.config.policy.notMeLinkDays * 86_400_000 + 1000);
    const late = await t.request({ method: 'POST', url: '/api/v1/not-me', payload: { token: tokenOf(link) } });
    assert.equal(late.json().error.code, 'INVALID_TOKEN');
  });

  test('from the "email changed" notice it also gives the account its old address back', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email);
    const hijacked = uniqueEmail('hijacker');
    await t.request({
      method: 'POST',
      url: '/api/v1/me/email',
      headers: bearer(token),
      payload: { newEmail: hijacked, currentPassword: fields.password },
    });
    const change = (await outboxFor(t, hijacked))[0]?.links.find((l) => l.includes('/confirm-email-change'));
    assert.ok(change);
    const confirmed = await t.request({
      method: 'POST',
      url: '/api/v1/me/email/confirm',
      payload: { token: tokenOf(change) },
    });
    assert.equal(confirmed.statusCode, 200, confirmed.body);

    const link = await newestNotMe(fields.email, 'Your email address was changed');
    const page = await new Browser(t).get(pathOf(link));
    assert.match(
      page.body,
      new RegExp(`give your account its email address ${fields.email.replace(/\./g, '\\.')} back`),
    );
    const reported = await t.request({ method: 'POST', url: '/api/v1/not-me', payload: { token: tokenOf(link) } });
    assert.equal(reported.json().emailRestored, fields.email);
    assert.equal(await isSignedIn(token), false);
    await signInToken(t, fields.email, fields.password);
    const hijackerTry = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: hijacked, password: fields.password },
    });
    assert.equal(hijackerTry.statusCode, 401);
  });

  test('a browser signed in to the account loses its session cookie with the report', async () => {
    const fields = await createVerifiedAccount(t);
    const browser = new Browser(t);
    const signedIn = await browser.postForm('/signin', {
      _csrf: await browser.formToken('/signin'),
      email: fields.email,
      password: fields.password,
    });
    assert.equal(signedIn.statusCode, 303);
    const link = await newestNotMe(fields.email, 'New sign-in to your account');
    const csrf = await browser.formToken(pathOf(link));
    const done = await browser.postForm('/not-me', { _csrf: csrf, token: tokenOf(link) });
    assert.equal(done.statusCode, 200);
    assert.equal(browser.session(), undefined, 'the cleared cookie');
    assert.equal((await browser.get('/account')).headers.location, '/signin');
  });
});
