// What support may do for an account *without* two-step verification (SPEC §3.15): email the same
// single-use reset link the owner could ask for (never set a password), end a timed password delay,
// sign the account out everywhere. Each is recorded with the staff member, shown to the owner in
// "Recent activity" and emailed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GOOD_PASSWORD, startTestApp, type TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, outboxFor, signInToken } from '../helpers/journeys.ts';
import { createTestStaff, staffBrowser, staffToken, type TestStaff } from '../helpers/staff.ts';

let t: TestApp;
let agent: TestStaff;
let agentToken: string;
before(async () => {
  t = await startTestApp({}, { memoryKeyValue: true });
  agent = await createTestStaff(t, 'support');
  agentToken = await staffToken(t, agent);
});
after(() => t.close());

async function accountId(email: string): Promise<string> {
  const account = await t.app.services.store.accounts.findByEmail(email);
  assert.ok(account);
  return account.id;
}

describe('support actions on an account without two-step verification', () => {
  test('search finds the account by the start of its email and by id', async () => {
    const owner = await createVerifiedAccount(t);
    const id = await accountId(owner.email);
    const prefix = owner.email.slice(0, owner.email.indexOf('@') - 2).toUpperCase();
    const byPrefix = await t.request({
      method: 'GET',
      url: `/api/v1/console/accounts?q=${encodeURIComponent(prefix)}`,
      headers: bearer(agentToken),
    });
    assert.equal(byPrefix.statusCode, 200, byPrefix.body);
    assert.ok(byPrefix.json().accounts.some((a: { id: string }) => a.id === id));
    const byId = await t.request({
      method: 'GET',
      url: `/api/v1/console/accounts?q=${id}`,
      headers: bearer(agentToken),
    });
    assert.deepEqual(
      byId.json().accounts.map((a: { id: string }) => a.id),
      [id],
    );
    const wildcard = await t.request({
      method: 'GET',
      url: '/api/v1/console/accounts?q=%25',
      headers: bearer(agentToken),
    });
    assert.deepEqual(wildcard.json().accounts, [], 'a % is a character, not a wildcard');
  });

  test('a reset link is emailed (saying support sent it), works once, and is audited and shown to the owner', async () => {
    const owner = await createVerifiedAccount(t);
    const id = await accountId(owner.email);
    const sent = await t.request({
      method: 'POST',
      url: `/api/v1/console/accounts/${id}/password-reset-link`,
      headers: bearer(agentToken),
    });
    assert.equal(sent.statusCode, 202, sent.body);
    const [mail] = (await outboxFor(t, owner.email)).filter((m) => m.links.some((l) => l.includes('/reset-password')));
    assert.ok(mail, 'no reset email');
    assert.match(mail.subject ?? '', /sent by support/);
    const token = new URL(mail.links[0] as string).searchParams.get('token') as string;
    const reset = await t.request({
      method: 'POST',
      url: '/api/v1/password/reset',
      payload: { token, newPassword: 'a freshly chosen passphrase' },
    });
    assert.equal(reset.statusCode, 200, reset.body);
    const session = await signInToken(t, owner.email, 'a freshly chosen passphrase');
    const activity = await t.request({ method: 'GET', url: '/api/v1/activity', headers: bearer(session) });
    const event = activity.json().events.find((e: { event: string }) => e.event === 'support.reset_link_sent');
    assert.ok(event, 'not in Recent activity');
    assert.equal(event.actor, `staff:${agent.id}`);
    // Again at once: the same one-email-per-interval rule as "forgot password".
    const again = await t.request({
      method: 'POST',
      url: `/api/v1/console/accounts/${id}/password-reset-link`,
      headers: bearer(agentToken),
    });
    assert.equal(again.statusCode, 429);
  });

  test('the console page sends the link and says so', async () => {
    const owner = await createVerifiedAccount(t);
    const id = await accountId(owner.email);
    const browser = await staffBrowser(t, agent);
    const page = await browser.get(`/console/accounts/${id}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Email a password reset link/);
    const done = await browser.postForm(`/console/accounts/${id}/reset-link`, {
      _csrf: await browser.formToken(`/console/accounts/${id}`),
    });
    assert.equal(done.statusCode, 303, done.body.slice(0, 300));
    const after = await browser.get(done.headers.location as string);
    assert.match(after.body, /reset link was emailed/);
    assert.ok((await outboxFor(t, owner.email)).some((m) => m.links.some((l) => l.includes('/reset-password'))));
  });

  test('unlock ends a timed password delay; the owner is emailed and sees it', async () => {
    const owner = await createVerifiedAccount(t);
    const id = await accountId(owner.email);
    let status = 0;
    for (let i = 0; i < 8 && status !== 429; i += 1) {
      status = (
        await t.request({
          method: 'POST',
          url: '/api/v1/signin',
          payload: { email: owner.email, password: `wrong ${i}` },
        })
      ).statusCode;
    }
    assert.equal(status, 429, 'no delay started');
    const profile = await t.request({
      method: 'GET',
      url: `/api/v1/console/accounts/${id}`,
      headers: bearer(agentToken),
    });
    assert.ok(profile.json().passwordDelaySeconds > 0);
    const unlocked = await t.request({
      method: 'POST',
      url: `/api/v1/console/accounts/${id}/unlock`,
      headers: bearer(agentToken),
    });
    assert.equal(unlocked.statusCode, 200, unlocked.body);
    assert.deepEqual(unlocked.json(), { status: 'unlocked', hadDelay: true });
    const session = await signInToken(t, owner.email, GOOD_PASSWORD);
    assert.ok((await outboxFor(t, owner.email)).some((m) => /ended the waiting time/.test(m.body)));
    const activity = await t.request({ method: 'GET', url: '/api/v1/activity', headers: bearer(session) });
    assert.ok(
      activity
        .json()
        .events.some(
          (e: { event: string; actor: string }) => e.event === 'support.unlocked' && e.actor === `staff:${agent.id}`,
        ),
    );
  });

  test('sign out everywhere revokes every session, emails the owner and records it', async () => {
    const owner = await createVerifiedAccount(t);
    const id = await accountId(owner.email);
    const one = await signInToken(t, owner.email);
    await signInToken(t, owner.email);
    const revoked = await t.request({
      method: 'POST',
      url: `/api/v1/console/accounts/${id}/sessions/revoke`,
      headers: bearer(agentToken),
    });
    assert.deepEqual(revoked.json(), { revoked: 2 });
    assert.equal((await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(one) })).statusCode, 401);
    assert.ok((await outboxFor(t, owner.email)).some((m) => /signed your account out/.test(m.body)));
    const events = await t.app.services.store.audit.listForAccount(id, { limit: 20 });
    assert.ok(events.some((e) => e.event === 'support.sessions_revoked' && e.actor === `staff:${agent.id}`));
  });

  test('unknown accounts and malformed ids are 404, never 500', async () => {
    for (const id of ['nope', 'x'.repeat(64), '%00']) {
      const response = await t.request({
        method: 'POST',
        url: `/api/v1/console/accounts/${id}/unlock`,
        headers: bearer(agentToken),
      });
      assert.ok([400, 404].includes(response.statusCode), `${id} → ${response.statusCode}`);
    }
  });
});
