// The owner learns who from support acted on their account (SPEC §3.15, issue 7): "Recent activity"
// on the portal and in the API names the staff member (by name, as Twostep support, never by email),
// and so does every email about a staff action. Looking at the account is emailed too, at most once
// a day per staff member and account.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DAY, HOUR } from '../../src/core/clock.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, outboxFor, signInToken } from '../helpers/journeys.ts';
import { createTestStaff, staffToken, type TestStaff } from '../helpers/staff.ts';
import { signInBrowser } from '../security/support.ts';

let t: TestApp;
let anna: TestStaff;
let bram: TestStaff;
before(async () => {
  t = await startTestApp({}, { memoryKeyValue: true });
  anna = await createTestStaff(t, 'support', { setUpTotp: true, name: 'Anna Jansen' });
  bram = await createTestStaff(t, 'admin', { setUpTotp: true, name: 'Bram de Vries' });
});
after(() => t.close());

async function accountId(email: string): Promise<string> {
  const account = await t.app.services.store.accounts.findByEmail(email);
  assert.ok(account);
  return account.id;
}

async function staffPost(staff: TestStaff, url: string): Promise<void> {
  const response = await t.request({ method: 'POST', url, headers: bearer(await staffToken(t, staff)) });
  assert.ok(response.statusCode < 300, `${url} → ${response.statusCode} ${response.body}`);
}

async function viewProfile(staff: TestStaff, id: string): Promise<void> {
  const token = await staffToken(t, staff);
  const response = await t.request({ method: 'GET', url: `/api/v1/console/accounts/${id}`, headers: bearer(token) });
  assert.equal(response.statusCode, 200, response.body);
}

/** The cells of the activity table's row whose first cell is this event's label. */
function activityRow(page: string, label: string): string[] {
  const row = [...page.matchAll(/<tr>(.*?)<\/tr>/gs)]
    .map((m) => [...(m[1] as string).matchAll(/<td>(.*?)<\/td>/gs)].map((c) => (c[1] as string).trim()))
    .find((cells) => cells[0] === label);
  assert.ok(row, `no row "${label}" in Recent activity`);
  return row;
}

describe('staff actions as the account holder sees them', () => {
  test('the portal’s Recent activity names the staff member as Twostep support, and the owner as You', async () => {
    const owner = await createVerifiedAccount(t);
    const id = await accountId(owner.email);
    const browser = await signInBrowser(t, owner.email, owner.password);
    await staffPost(anna, `/api/v1/console/accounts/${id}/unlock`);
    await staffPost(bram, `/api/v1/console/accounts/${id}/password-reset-link`);
    const page = await browser.get('/account/activity');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<th scope="col">By<\/th>/);
    assert.equal(
      activityRow(page.body, 'Twostep support ended a password delay on your account')[1],
      'Anna Jansen, Twostep support',
    );
    assert.equal(
      activityRow(page.body, 'Twostep support emailed you a password reset link')[1],
      'Bram de Vries, Twostep support',
      'an admin is shown to customers as Twostep support too',
    );
    assert.equal(activityRow(page.body, 'Signed in')[1], 'You');
    for (const staff of [anna, bram]) {
      assert.ok(!page.body.includes(staff.email), 'a staff email reached the owner');
      assert.ok(!page.body.includes(staff.id), 'a staff id reached the page');
    }
  });

  test('the activity API gives the staff member’s name beside the opaque actor, and never their email', async () => {
    const owner = await createVerifiedAccount(t);
    const id = await accountId(owner.email);
    await staffPost(anna, `/api/v1/console/accounts/${id}/unlock`);
    const session = await signInToken(t, owner.email);
    const response = await t.request({ method: 'GET', url: '/api/v1/activity', headers: bearer(session) });
    assert.equal(response.statusCode, 200);
    const events: { event: string; actor: string; staff: { name: string } | null }[] = response.json().events;
    const unlocked = events.find((e) => e.event === 'support.unlocked');
    assert.deepEqual(
      { actor: unlocked?.actor, staff: unlocked?.staff },
      { actor: `staff:${anna.id}`, staff: { name: 'Anna Jansen' } },
    );
    const own = events.find((e) => e.actor === `account:${id}`);
    assert.ok(own, 'no event of the owner');
    assert.equal(own.staff, null);
    assert.ok(!response.body.includes(anna.email));
  });

  test('every email about a staff action names the staff member, never by email address', async () => {
    const owner = await createVerifiedAccount(t);
    const id = await accountId(owner.email);
    await staffPost(anna, `/api/v1/console/accounts/${id}/password-reset-link`);
    await staffPost(anna, `/api/v1/console/accounts/${id}/unlock`);
    await staffPost(anna, `/api/v1/console/accounts/${id}/sessions/revoke`);
    const mails = await outboxFor(t, owner.email);
    for (const pattern of [/sent you this link/, /ended the waiting time/, /signed your account out/]) {
      const mail = mails.find((m) => pattern.test(m.body));
      assert.ok(mail, `no email matching ${pattern}`);
      assert.match(mail.body, /Anna Jansen of Twostep support/);
      assert.ok(!mail.body.includes(anna.email));
    }
  });
});

describe('looking at an account', () => {
  const viewedMails = async (email: string): Promise<string[]> =>
    (await outboxFor(t, email))
      .filter((m) => m.subject === 'Twostep support looked at your account')
      .map((m) => m.body);

  test('is emailed at most once a day per staff member and account, and each view stays in the activity', async () => {
    const owner = await createVerifiedAccount(t);
    const id = await accountId(owner.email);
    await viewProfile(anna, id);
    await viewProfile(anna, id);
    let mails = await viewedMails(owner.email);
    assert.equal(mails.length, 1, 'one email for two views in a row');
    assert.match(mails[0] as string, /Anna Jansen of Twostep support opened your account/);
    assert.ok(!(mails[0] as string).includes(anna.email));

    await viewProfile(bram, id);
    assert.equal((await viewedMails(owner.email)).length, 2, 'another staff member is another email');

    t.clock.advance(2 * HOUR);
    await viewProfile(anna, id);
    assert.equal((await viewedMails(owner.email)).length, 2, 'a second view the same day sends nothing');
    const views = (await t.app.services.store.audit.listForAccount(id, { limit: 50 })).filter(
      (e) => e.event === 'support.account_viewed' && e.actor === `staff:${anna.id}`,
    );
    assert.equal(views.length, 2, 'the later view is still recorded (once an hour)');

    t.clock.advance(DAY);
    await viewProfile(anna, id);
    mails = await viewedMails(owner.email);
    assert.equal(mails.length, 3, 'a view the next day is emailed again');
  });
});
