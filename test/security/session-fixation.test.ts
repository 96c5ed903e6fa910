// An attacker plants a session cookie in the victim's browser before the victim signs in, hoping
// to share the session afterwards, or guesses or steals session tokens (SECURITY.md item 27): a
// planted cookie is never authenticated as the victim and is replaced at sign-in; tokens carry
// ≥128 random bits; the database holds only a hash of the secret.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sha256 } from '../../src/core/tokens.ts';
import type { TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, signInToken } from '../helpers/journeys.ts';
import { Browser, startTestApp } from './support.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(() => t.close());

const SESSION = 'twostep_session';

/** A token of the right shape that the server never issued. */
function forgedToken(): string {
  return `${randomBytes(16).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
}

async function whoIs(token: string): Promise<string | undefined> {
  const me = await t.request({ method: 'GET', url: '/api/v1/me', headers: { cookie: `${SESSION}=${token}` } });
  return me.statusCode === 200 ? (me.json().account.email as string) : undefined;
}

/** Signs in through the portal form in a browser that already holds `planted`; returns the cookie it ends with. */
async function signInWithPlantedCookie(email: string, password: string, planted: string): Promise<string> {
  const browser = new Browser(t);
  browser.cookies.set(SESSION, planted);
  // /signin itself redirects a browser that already has a live session; the sign-up page shows the same form token.
  const token = await browser.formToken('/signup');
  const response = await browser.postForm('/signin', { _csrf: token, email, password });
  assert.equal(response.statusCode, 303, response.body.slice(0, 300));
  const issued = response.cookies.find((c) => c.name === SESSION)?.value;
  assert.ok(issued, 'sign-in must set a fresh session cookie');
  return issued;
}

describe('a planted session cookie', () => {
  test('is never authenticated, before or after the victim signs in, and is replaced', async () => {
    const victim = await createVerifiedAccount(t);
    const planted = [forgedToken(), 'attacker-chosen-value', `${'A'.repeat(22)}.${'B'.repeat(43)}`];
    for (const value of planted) {
      assert.equal(await whoIs(value), undefined, `${value} authenticated before sign-in`);
      const visitor = new Browser(t);
      visitor.cookies.set(SESSION, value);
      const account = await visitor.get('/account');
      assert.equal(account.statusCode, 303, 'the portal sends an unknown session to sign in');

      const issued = await signInWithPlantedCookie(victim.email, victim.password, value);
      assert.notEqual(issued, value, 'the planted value is replaced');
      assert.equal(await whoIs(issued), victim.email);
      assert.equal(await whoIs(value), undefined, `${value} became the victim's session`);
    }
  });

  test("an attacker's own live session, planted in the victim's browser, never becomes the victim's", async () => {
    const attacker = await createVerifiedAccount(t);
    const victim = await createVerifiedAccount(t);
    const attackerToken = await signInToken(t, attacker.email);
    const issued = await signInWithPlantedCookie(victim.email, victim.password, attackerToken);
    assert.notEqual(issued, attackerToken);
    assert.equal(await whoIs(issued), victim.email);
    assert.equal(await whoIs(attackerToken), attacker.email, "the attacker's token still means only the attacker");

    // The same through the API: a sign-in with a cookie present returns and sets a new token.
    const api = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      headers: { cookie: `${SESSION}=${attackerToken}` },
      payload: { email: victim.email, password: victim.password },
    });
    assert.equal(api.statusCode, 200);
    const apiToken = api.json().token as string;
    assert.notEqual(apiToken, attackerToken);
    assert.equal(api.cookies.find((c) => c.name === SESSION)?.value, apiToken);
    assert.equal(await whoIs(attackerToken), attacker.email);
  });
});

describe('session tokens', () => {
  test('every sign-in issues a new token with at least 128 random bits in its secret', async () => {
    const owner = await createVerifiedAccount(t);
    const tokens = new Set<string>();
    const ids = new Set<string>();
    for (let i = 0; i < 12; i += 1) {
      const token = await signInToken(t, owner.email);
      const [id = '', secret = '', ...rest] = token.split('.');
      assert.equal(rest.length, 0, token);
      assert.match(id, /^[A-Za-z0-9_-]+$/);
      assert.match(secret, /^[A-Za-z0-9_-]+$/);
      assert.ok(Buffer.from(secret, 'base64url').length >= 16, `secret of ${secret.length} chars is < 128 bits`);
      tokens.add(token);
      ids.add(id);
    }
    assert.equal(tokens.size, 12);
    assert.equal(ids.size, 12);
  });

  test('the database keeps only a hash of the secret, nowhere the token itself', async () => {
    const owner = await createVerifiedAccount(t);
    const token = await signInToken(t, owner.email);
    const [id = '', secret = ''] = token.split('.');
    const row = await t.database.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    assert.ok(row, 'the session row is found by the id part');
    assert.notEqual(row.secret_hash, secret);
    assert.equal(row.secret_hash, sha256(secret), 'the secret is stored as its SHA-256');
    // Nothing anywhere in the database holds the secret: not the session, the audit trail or the outbox.
    const db = t.database.db;
    const everything = JSON.stringify([
      await db.selectFrom('sessions').selectAll().execute(),
      await db.selectFrom('audit_events').selectAll().execute(),
      await db.selectFrom('accounts').selectAll().execute(),
      await db.selectFrom('email_tokens').selectAll().execute(),
      await db.selectFrom('outbox').selectAll().execute(),
    ]);
    assert.ok(everything.length > 1000, 'the scan saw the data');
    assert.ok(everything.includes(id), 'the scan sees the session row');
    assert.ok(!everything.includes(secret), 'the session secret is stored somewhere in clear');
  });

  test('a token with the right id but a wrong secret is refused', async () => {
    const owner = await createVerifiedAccount(t);
    const token = await signInToken(t, owner.email);
    const [id = ''] = token.split('.');
    const guessed = `${id}.${randomBytes(32).toString('base64url')}`;
    assert.equal((await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(guessed) })).statusCode, 401);
    assert.equal(await whoIs(guessed), undefined);
    assert.equal((await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(token) })).statusCode, 200);
  });
});
