// Forgot password and the recovery key through the JSON API (SPEC §3.7–3.11; SECURITY.md items
// 20–26): the emailed link for accounts without two-step verification, the recovery key plus a code
// for accounts with it, and the rules an attacker would test: one-time, expiring, superseded links,
// a forged Host header, steps skipped, reordered or replayed, key typos and key guessing.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { normalizeRecoveryKey } from '../../src/core/recovery-key.ts';
import { startTestApp, type TestApp, uniqueEmail } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, outboxFor, signInToken } from '../helpers/journeys.ts';
import {
  finishRecovery,
  recoverToCodeVerified,
  requestReset,
  resetLink,
  resetWithToken,
  signInWithKey,
  startRecovery,
  tokenOf,
} from '../helpers/recovery.ts';
import { enrolTwoStep, passwordStep, sendCode, smsCode } from '../helpers/two-step.ts';

const NEW_PASSWORD = 'amber lantern drifts slowly';

let t: TestApp;
before(async () => {
  t = await startTestApp(
    { PASSWORD_RESET_INTERVAL_SECONDS: '0', CODE_SEND_INTERVAL_SECONDS: '0' },
    { memoryKeyValue: true },
  );
});
after(() => t.close());

async function me(token: string) {
  return t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });
}

describe('forgot password without two-step verification: the emailed link', () => {
  test('the link resets the password once, signs every session out and does not sign in', async () => {
    const account = await createVerifiedAccount(t);
    const session = await signInToken(t, account.email);
    const requested = await requestReset(t, account.email);
    assert.equal(requested.statusCode, 202);
    const link = (await resetLink(t, account.email)) ?? '';
    assert.ok(link.startsWith('http://localhost:3000/reset-password?token='), link);
    const reset = await resetWithToken(t, tokenOf(link), NEW_PASSWORD);
    assert.equal(reset.statusCode, 200, reset.body);
    assert.deepEqual(reset.json(), { status: 'password_changed' });
    assert.equal(reset.headers['set-cookie'], undefined, 'no session comes with a reset');
    assert.equal((await me(session)).statusCode, 401, 'the old session is signed out');
    await signInToken(t, account.email, NEW_PASSWORD);
    const old = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: account.email, password: account.password },
    });
    assert.equal(old.statusCode, 401);
    const again = await resetWithToken(t, tokenOf(link), 'another fine passphrase');
    assert.equal(again.statusCode, 400);
    assert.equal(again.json().error.code, 'INVALID_TOKEN');
    const mails = await outboxFor(t, account.email);
    assert.ok(
      mails.some((m) => m.subject === 'Your password was reset'),
      'the owner is told',
    );
  });

  test('an unknown email gets the same answer, byte for byte, and nothing is sent', async () => {
    const account = await createVerifiedAccount(t);
    const stranger = uniqueEmail('nobody');
    const known = await requestReset(t, account.email);
    const unknown = await requestReset(t, stranger);
    assert.equal(unknown.statusCode, known.statusCode);
    assert.equal(unknown.body, known.body);
    assert.deepEqual(await outboxFor(t, stranger), []);
  });

  test('a newer request kills the older link; an expired link fails', async () => {
    const account = await createVerifiedAccount(t);
    await requestReset(t, account.email);
    const first = tokenOf((await resetLink(t, account.email)) as string);
    await requestReset(t, account.email);
    const second = tokenOf((await resetLink(t, account.email)) as string);
    assert.notEqual(first, second);
    assert.equal((await resetWithToken(t, first, NEW_PASSWORD)).json().error.code, 'INVALID_TOKEN');
    t.clock.advance(61 * 60_000);
    assert.equal((await resetWithToken(t, second, NEW_PASSWORD)).json().error.code, 'INVALID_TOKEN');
  });

  test('a forged Host header does not change the emailed link', async () => {
    const account = await createVerifiedAccount(t);
    await requestReset(t, account.email, { host: 'evil.example', 'x-forwarded-host': 'evil.example' });
    const link = await resetLink(t, account.email);
    assert.ok(link?.startsWith('http://localhost:3000/'), link);
  });

  test('crafted tokens fail without changing anything', async () => {
    const account = await createVerifiedAccount(t);
    await requestReset(t, account.email);
    const token = tokenOf((await resetLink(t, account.email)) as string);
    const [id] = token.split('.');
    for (const crafted of ['', 'x', `${id}.${'A'.repeat(43)}`, `${id}`, `${token}x`]) {
      const response = await resetWithToken(t, crafted, NEW_PASSWORD);
      assert.equal(response.statusCode, 400, crafted);
      assert.equal(response.json().error.code, 'INVALID_TOKEN', crafted);
    }
    await signInToken(t, account.email, account.password);
  });

  test('the new password follows the password rules, and a refused one leaves the link usable', async () => {
    const account = await createVerifiedAccount(t);
    await requestReset(t, account.email);
    const token = tokenOf((await resetLink(t, account.email)) as string);
    const weak = await resetWithToken(t, token, 'password');
    assert.equal(weak.statusCode, 400);
    assert.match(weak.json().error.code, /^PASSWORD_/);
    assert.equal((await resetWithToken(t, token, NEW_PASSWORD)).statusCode, 200);
  });

  test('a reset ends the timed lock of wrong passwords', async () => {
    const account = await createVerifiedAccount(t);
    let throttled = false;
    for (let i = 0; i < 12 && !throttled; i += 1) {
      const wrong = await t.request({
        method: 'POST',
        url: '/api/v1/signin',
        payload: { email: account.email, password: `wrong guess ${i}` },
      });
      throttled = wrong.statusCode === 429;
    }
    assert.ok(throttled, 'wrong passwords lead to a delay');
    await requestReset(t, account.email);
    await resetWithToken(t, tokenOf((await resetLink(t, account.email)) as string), NEW_PASSWORD);
    await signInToken(t, account.email, NEW_PASSWORD);
  });
});

describe('forgot password with two-step verification: the recovery key and a code', () => {
  test('no link is emailed to a two-step account, only how to recover', async () => {
    const account = await enrolTwoStep(t);
    await requestReset(t, account.email);
    assert.equal(await resetLink(t, account.email), undefined);
    const [mail] = await outboxFor(t, account.email);
    assert.ok(
      mail?.links.some((l) => l.endsWith('/forgot-password/key')),
      mail?.body,
    );
  });

  test('key, code, new password: sessions end, the old key dies and a new one is shown once', async () => {
    const account = await enrolTwoStep(t);
    const recoveryToken = await recoverToCodeVerified(t, account);
    const finished = await finishRecovery(t, recoveryToken, NEW_PASSWORD);
    assert.equal(finished.statusCode, 200, finished.body);
    const newKey = finished.json().recoveryKey as string;
    assert.match(newKey, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}$/);
    assert.notEqual(newKey, account.recoveryKey);
    assert.equal((await me(account.token)).statusCode, 401, 'the enrolment session is signed out');
    const oldKey = await startRecovery(t, account.email, account.recoveryKey);
    assert.equal(oldKey.json().error.code, 'RECOVERY_KEY_WRONG');
    assert.equal((await startRecovery(t, account.email, newKey)).statusCode, 200);
    // Still two-step: the new password alone asks for a code.
    await passwordStep(t, account.email, NEW_PASSWORD);
    const stored = await t.app.services.store.accounts.findByEmail(account.email);
    assert.ok(stored?.recovery_key_hash?.startsWith('$argon2id$'), 'the key is stored as an argon2id hash');
    assert.ok(!JSON.stringify(stored).includes(newKey.replaceAll('-', '')), 'no plaintext key in the row');
  });

  test('steps cannot be skipped, reordered or replayed', async () => {
    const account = await enrolTwoStep(t);
    const started = await startRecovery(t, account.email, account.recoveryKey);
    const { recoveryToken } = started.json();
    const skipped = await finishRecovery(t, recoveryToken, NEW_PASSWORD);
    assert.equal(skipped.statusCode, 409);
    assert.equal(skipped.json().error.code, 'RECOVERY_STEP_INVALID');
    // The code of a sign-in challenge is not the code of this recovery.
    const signIn = await passwordStep(t, account.email, account.password);
    const sms = signIn.channels.find((c) => c.type === 'sms') as { id: string };
    await sendCode(t, signIn.id, sms.id);
    const foreign = await t.request({
      method: 'POST',
      url: '/api/v1/recovery/verify',
      payload: { recoveryToken, code: await smsCode(t, account.phone) },
    });
    assert.equal(foreign.statusCode, 400);
    assert.equal(foreign.json().error.code, 'CODE_WRONG');
    // A fresh recovery supersedes this one; the old token is dead for good.
    const token = await recoverToCodeVerified(t, account);
    const stale = await t.request({
      method: 'POST',
      url: '/api/v1/recovery/verify',
      payload: { recoveryToken, code: '000000' },
    });
    assert.equal(stale.json().error.code, 'RECOVERY_STEP_INVALID');
    const replayCode = await t.request({
      method: 'POST',
      url: '/api/v1/recovery/verify',
      payload: { recoveryToken: token, code: '000000' },
    });
    assert.equal(replayCode.json().error.code, 'RECOVERY_STEP_INVALID');
    assert.equal((await finishRecovery(t, token, NEW_PASSWORD)).statusCode, 200);
    const replayed = await finishRecovery(t, token, 'yet another good passphrase');
    assert.equal(replayed.json().error.code, 'RECOVERY_STEP_INVALID');
    await passwordStep(t, account.email, NEW_PASSWORD);
  });

  test('the recovery expires', async () => {
    const account = await enrolTwoStep(t);
    const token = await recoverToCodeVerified(t, account);
    t.clock.advance(31 * 60_000);
    assert.equal((await finishRecovery(t, token, NEW_PASSWORD)).json().error.code, 'INVALID_TOKEN');
  });

  test('an emailed link alone never resets a two-step account', async () => {
    const account = await createVerifiedAccount(t);
    await requestReset(t, account.email);
    const link = (await resetLink(t, account.email)) as string;
    // The owner turns on two-step verification while the link is still out there.
    const stored = await t.app.services.store.accounts.findByEmail(account.email);
    await t.app.services.store.accounts.enableTwoStep(stored?.id as string, t.clock.now());
    const response = await resetWithToken(t, tokenOf(link), NEW_PASSWORD);
    assert.equal(response.statusCode, 403);
    assert.equal(response.json().error.code, 'RESET_NEEDS_TWO_STEP');
    await passwordStep(t, account.email, account.password);
  });
});

describe('the recovery key against typos and guessing', () => {
  test('typos are caught by the check character without spending an attempt', async () => {
    const account = await enrolTwoStep(t);
    const key = account.recoveryKey;
    // Change one character into another valid one: the check character no longer fits.
    const typo = (key[0] === 'A' ? 'B' : 'A') + key.slice(1);
    for (let i = 0; i < 20; i += 1) {
      const response = await startRecovery(t, account.email, typo);
      assert.equal(response.json().error.code, 'RECOVERY_KEY_MISTYPED');
    }
    const forgiving = key.toLowerCase().replaceAll('-', ' ').replaceAll('1', 'l').replaceAll('0', 'o');
    assert.equal((await startRecovery(t, account.email, forgiving)).statusCode, 200, 'case, spaces, I/L/O forgiven');
  });

  test('guessing keys through "forgot password" runs into growing delays but never locks the owner out', async () => {
    const account = await enrolTwoStep(t);
    let limited: { statusCode: number; headers: Record<string, unknown> } | undefined;
    for (let i = 0; i < 30 && !limited; i += 1) {
      const response = await startRecovery(t, account.email, wellFormedGuess(i));
      if (response.statusCode === 429) limited = response;
      else assert.equal(response.json().error.code, 'RECOVERY_KEY_WRONG');
    }
    assert.ok(limited, 'guessing is throttled');
    assert.ok(Number(limited.headers['retry-after']) > 0);
    const stored = await t.app.services.store.accounts.findByEmail(account.email);
    assert.equal(stored?.state, 'active', 'a stranger with only the email cannot lock the owner out');
    const challenge = await passwordStep(t, account.email, account.password);
    assert.ok(challenge.id);
  });

  test('after the password, wrong keys count like wrong codes and end in the lock', async () => {
    const account = await enrolTwoStep(t);
    let locked = false;
    for (let i = 0; i < 12 && !locked; i += 1) {
      t.clock.advance(16 * 60_000); // past any key delay: it is the account budget that must stop this
      const response = await signInWithKey(t, {
        email: account.email,
        password: account.password,
        recoveryKey: wellFormedGuess(100 + i),
      });
      assert.equal(response.json().error.code, 'RECOVERY_KEY_WRONG');
      locked = (await t.app.services.store.accounts.findByEmail(account.email))?.state === 'locked';
    }
    assert.ok(locked, 'the account is locked after the wrong-code budget');
    const signIn = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: account.email, password: account.password },
    });
    assert.equal(signIn.json().error.code, 'ACCOUNT_LOCKED');
  });
});

describe('input that proves nothing', () => {
  test('the 2013 attack: email and date of birth are not accepted by any recovery step', async () => {
    const account = await enrolTwoStep(t);
    const attempts = [
      { url: '/api/v1/password/forgot', payload: { email: account.email, birthDate: account.birthDate } },
      { url: '/api/v1/recovery', payload: { email: account.email, birthDate: account.birthDate } },
      { url: '/api/v1/recovery', payload: { email: account.email, recoveryKey: account.birthDate } },
      {
        url: '/api/v1/password/reset',
        payload: { email: account.email, birthDate: account.birthDate, newPassword: NEW_PASSWORD },
      },
      { url: '/api/v1/recovery/password', payload: { recoveryToken: '', newPassword: NEW_PASSWORD } },
      { url: '/api/v1/signin/recovery-key', payload: { email: account.email, birthDate: account.birthDate } },
      { url: '/api/v1/unlock', payload: { email: account.email, birthDate: account.birthDate } },
    ];
    for (const attempt of attempts) {
      const response = await t.request({ method: 'POST', ...attempt });
      assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${attempt.url}: ${response.body}`);
      assert.equal(response.headers['set-cookie'], undefined);
    }
    const stored = await t.app.services.store.accounts.findByEmail(account.email);
    assert.equal(
      await t.app.services.hasher.verify(stored?.password_hash, account.password),
      true,
      'the password is unchanged',
    );
  });
});

/** A well-formed key (right check character) that is not the account's: the i-th of a fixed series. */
function wellFormedGuess(i: number): string {
  const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  const data = `${String(i).padStart(13, '7')}`.slice(-13).replace(/\d/g, (d) => ALPHABET[Number(d) + 10] as string);
  for (const check of ALPHABET) {
    const candidate = `${data}${check}`;
    if (normalizeRecoveryKey(candidate).ok)
      return `${candidate.slice(0, 4)}-${candidate.slice(4, 8)}-${candidate.slice(8, 12)}-${candidate.slice(12)}`;
  }
  throw new Error('no check character fits');
}

describe('forgot password cannot flood a mailbox or be sprayed', () => {
  let limited: TestApp;
  before(async () => {
    limited = await startTestApp({}, { memoryKeyValue: true });
  });
  after(() => limited.close());

  test('one email per address per minute, whoever asks; then the next one goes out', async () => {
    const account = await createVerifiedAccount(limited);
    const before = (await outboxFor(limited, account.email)).length;
    await requestReset(limited, account.email);
    const again = await requestReset(limited, account.email);
    assert.equal(again.statusCode, 202, 'the answer does not change');
    assert.equal((await outboxFor(limited, account.email)).length, before + 1);
    limited.clock.advance(61_000);
    await requestReset(limited, account.email);
    assert.equal((await outboxFor(limited, account.email)).length, before + 2);
  });

  test('one address gets 20 requests an hour, for any emails', async () => {
    const ask = (i: number) =>
      limited.request({
        method: 'POST',
        url: '/api/v1/password/forgot',
        remoteAddress: '198.51.100.77',
        payload: { email: uniqueEmail(`spray${i}`) },
      });
    for (let i = 0; i < 20; i += 1) assert.equal((await ask(i)).statusCode, 202);
    const refused = await ask(21);
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.json().error.code, 'TOO_MANY_ATTEMPTS');
    await limited.app.services.background.drain();
  });
});

describe('what a reset ends, and what is stored of its token', () => {
  const trustCookieOf = (response: { headers: Record<string, unknown> }): string => {
    const value = String(response.headers['set-cookie']).match(/twostep_trusted=([^;]+)/)?.[1];
    assert.ok(value, 'a trusted-browser cookie');
    return `twostep_trusted=${value}`;
  };

  test('a recovery with the key and a code ends every session, trusted browser and app-specific password', async () => {
    const owner = await enrolTwoStep(t);
    const challenge = await passwordStep(t, owner.email, owner.password);
    const sms = challenge.channels.find((c) => c.type === 'sms');
    await sendCode(t, challenge.id, sms?.id ?? '');
    const trusted = await t.request({
      method: 'POST',
      url: `/api/v1/challenges/${challenge.id}/verify`,
      payload: { code: await smsCode(t, owner.phone), trustBrowser: true },
    });
    assert.equal(trusted.statusCode, 200, trusted.body);
    const cookie = trustCookieOf(trusted);
    const skipped = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: owner.email, password: owner.password },
      headers: { cookie },
    });
    assert.equal(skipped.json().status, 'signed_in', 'before the reset the browser skips the code');
    const app = await t.request({
      method: 'POST',
      url: '/api/v1/app-passwords',
      headers: bearer(owner.token),
      payload: { label: 'Old mail client' },
    });
    assert.equal(app.statusCode, 201, app.body);
    const legacyValid = async (): Promise<boolean> =>
      (
        await t.request({
          method: 'POST',
          url: '/api/v1/legacy/verify',
          headers: {
            authorization: `Basic ${Buffer.from(`${owner.email}:${app.json().password}`).toString('base64')}`,
          },
        })
      ).json().valid;
    assert.equal(await legacyValid(), true);

    const sessions = [owner.token, trusted.json().token, skipped.json().token] as string[];
    for (const token of sessions) assert.equal((await me(token)).statusCode, 200, 'a live session before the reset');

    const recoveryToken = await recoverToCodeVerified(t, owner);
    assert.equal((await finishRecovery(t, recoveryToken, NEW_PASSWORD)).statusCode, 200);

    for (const token of sessions) assert.equal((await me(token)).statusCode, 401, 'every session ended');
    assert.equal(await legacyValid(), false, 'the app-specific password ended');
    // The browser that was trusted must give the code again, with the new password.
    await passwordStep(t, owner.email, NEW_PASSWORD, cookie);
  });

  test('the emailed link ends every session of the account, API and portal alike', async () => {
    const account = await createVerifiedAccount(t);
    const api = await signInToken(t, account.email);
    const portal = await signInToken(t, account.email);
    assert.equal((await me(api)).statusCode, 200);
    const before = await t.request({
      method: 'GET',
      url: '/account',
      headers: { accept: 'text/html', cookie: `twostep_session=${portal}` },
    });
    assert.equal(before.statusCode, 200, 'the portal session works before the reset');
    await requestReset(t, account.email);
    const reset = await resetWithToken(t, tokenOf((await resetLink(t, account.email)) as string), NEW_PASSWORD);
    assert.equal(reset.statusCode, 200, reset.body);
    assert.equal((await me(api)).statusCode, 401);
    const page = await t.request({
      method: 'GET',
      url: '/account',
      headers: { accept: 'text/html', cookie: `twostep_session=${portal}` },
    });
    assert.equal(page.statusCode, 303, 'the portal session is gone too');
    assert.equal(page.headers.location, '/signin');
  });

  /** The account_recoveries row of a token: only its id and a SHA-256 of its secret may be stored. */
  async function assertStoredHashed(token: string, accountId: string): Promise<void> {
    const [id, secret] = token.split('.');
    assert.ok(id && secret);
    assert.ok(Buffer.from(secret, 'base64url').length >= 16, 'at least 128 random bits');
    const rows = await t.database.db
      .selectFrom('account_recoveries')
      .selectAll()
      .where('account_id', '=', accountId)
      .execute();
    const row = rows.find((r) => r.id === id);
    assert.ok(row, 'the row is found by the id part');
    assert.equal(row.secret_hash, createHash('sha256').update(secret).digest('base64url'));
    assert.ok(!JSON.stringify(rows).includes(secret), 'the secret itself is nowhere in the table');
  }

  test('the emailed reset token and the recovery token are stored only as hashes', async () => {
    const account = await createVerifiedAccount(t);
    await requestReset(t, account.email);
    const emailed = tokenOf((await resetLink(t, account.email)) as string);
    const stored = await t.app.services.store.accounts.findByEmail(account.email);
    await assertStoredHashed(emailed, stored?.id as string);

    const owner = await enrolTwoStep(t);
    const started = await startRecovery(t, owner.email, owner.recoveryKey);
    assert.equal(started.statusCode, 200, started.body);
    const ownerRow = await t.app.services.store.accounts.findByEmail(owner.email);
    await assertStoredHashed(started.json().recoveryToken, ownerRow?.id as string);
  });
});
