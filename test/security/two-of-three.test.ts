// The "two of three" matrix (SPEC §3.7–3.11, SECURITY.md §E–F; the table in docs/recovery.md): for
// every combination of what the owner still has among the password (P), a trusted device or phone (D)
// and the recovery key (K), on an account with two-step verification, not locked and locked (after 10
// wrong codes), and for an account without two-step verification: one test per row of the table.
// Rows where nobody gets in are played as an attacker would play them, with what that row has, the
// owner's mailbox and date of birth thrown in: every endpoint refuses, and afterwards no session
// exists and the password (and the key) are unchanged. The rules behind each step (one-time links,
// step order, key typos and guessing) have their own tests in test/journeys/recovery-api.test.ts.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { generateRecoveryKey } from '../../src/core/recovery-key.ts';
import { cookieNames } from '../../src/http/cookies.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, outboxFor, type SignUpFields } from '../helpers/journeys.ts';
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
import {
  answer,
  enrolTwoStep,
  otherCode,
  passwordStep,
  sendCode,
  smsCode,
  type TwoStepAccount,
  uniqueMobile,
} from '../helpers/two-step.ts';
import { assertErrorContract } from './support.ts';

const NEW_PASSWORD = 'amber lantern drifts slowly';
const GUESSED_PASSWORD = 'a guess at the owner password';

let t: TestApp;
before(async () => {
  t = await startTestApp(
    { PASSWORD_RESET_INTERVAL_SECONDS: '0', CODE_SEND_INTERVAL_SECONDS: '0' },
    { memoryKeyValue: true },
  );
});
after(() => t.close());

// ---------------------------------------------------------------------------------------------
// Setting a row up

/**
 * The app as one client address sees it (RFC 5737 addresses): each row has its own, so the
 * per-address budgets (wrong passwords, wrong keys, SMS per address) of one row never decide another.
 */
let nextAddress = 0;
function client(): TestApp {
  nextAddress += 1;
  const remoteAddress = `203.0.113.${nextAddress}`;
  return { ...t, request: (options) => t.request({ remoteAddress, ...options }) };
}

interface Owner extends TwoStepAccount {
  id: string;
  /** A sign-in challenge still open from before the lock (locked rows): the password step already passed. */
  openSignIn?: { id: string; sms: string };
}

async function accountId(email: string): Promise<string> {
  const stored = await t.app.services.store.accounts.findByEmail(email);
  assert.ok(stored, `no account for ${email}`);
  return stored.id;
}

async function activeSessions(id: string): Promise<number> {
  return (await t.app.services.store.sessions.listActive(id)).length;
}

/**
 * A two-step account (a trusted phone and a confirmed recovery key) whose owner starts the row on a
 * browser without a session: the session left over from enrolment is signed out.
 */
async function twoStepOwner(u: TestApp): Promise<Owner> {
  const account = await enrolTwoStep(u);
  const out = await u.request({ method: 'POST', url: '/api/v1/signout', headers: bearer(account.token) });
  assert.equal(out.statusCode, 204, out.body);
  const id = await accountId(account.email);
  assert.equal(await activeSessions(id), 0, 'the row starts without a session');
  return { ...account, id };
}

/**
 * The real way to a lock: wrong codes to sign-in challenges, 3 per challenge, until the account
 * budget (10) is spent. Returns the last challenge, which still has attempts left.
 */
async function lockWithWrongCodes(u: TestApp, owner: Owner): Promise<{ id: string; sms: string }> {
  const limit = t.config.policy.wrongCodesPerAccount;
  let wrong = 0;
  let last = { id: '', sms: '' };
  while (wrong < limit) {
    const challenge = await passwordStep(u, owner.email, owner.password);
    last = { id: challenge.id, sms: challenge.channels.find((c) => c.type === 'sms')?.id ?? '' };
    for (let i = 0; i < 3 && wrong < limit; i += 1, wrong += 1) {
      const response = await answer(u, challenge.id, '123456');
      assert.equal(response.json().error?.code, 'CODE_WRONG', response.body);
    }
  }
  assert.equal((await t.app.services.store.accounts.findById(owner.id))?.state, 'locked');
  const signIn = await u.request({
    method: 'POST',
    url: '/api/v1/signin',
    payload: { email: owner.email, password: owner.password },
  });
  assert.equal(signIn.statusCode, 403, signIn.body);
  assert.equal(signIn.json().error.code, 'ACCOUNT_LOCKED');
  assert.equal(await activeSessions(owner.id), 0, 'the lock was reached without a session');
  return last;
}

async function lockedOwner(u: TestApp): Promise<Owner> {
  const owner = await twoStepOwner(u);
  return { ...owner, openSignIn: await lockWithWrongCodes(u, owner) };
}

// ---------------------------------------------------------------------------------------------
// Getting in

/** Password, then the code texted to the trusted phone: a two-step session. */
async function signInWithCode(u: TestApp, owner: Owner, password: string): Promise<string> {
  const challenge = await passwordStep(u, owner.email, password);
  const sms = challenge.channels.find((c) => c.type === 'sms');
  assert.ok(sms, 'the sign-in offers the trusted phone');
  const sent = await sendCode(u, challenge.id, sms.id);
  assert.equal(sent.statusCode, 202, sent.body);
  const done = await answer(u, challenge.id, await smsCode(u, owner.phone));
  assert.equal(done.statusCode, 200, done.body);
  assert.equal(done.json().status, 'signed_in');
  return done.json().token as string;
}

async function assertSignedIn(u: TestApp, token: string, assurance: 'password' | 'two-step'): Promise<void> {
  const me = await u.request({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });
  assert.equal(me.statusCode, 200, me.body);
  assert.equal(me.json().session.assurance, assurance);
}

async function state(owner: { id: string }): Promise<string | undefined> {
  return (await t.app.services.store.accounts.findById(owner.id))?.state;
}

// ---------------------------------------------------------------------------------------------
// Not getting in

function sessionCookieSet(response: LightMyRequestResponse): boolean {
  const name = cookieNames(t.config).session;
  return response.cookies.some((c) => c.name === name && c.value !== '');
}

/** The endpoint said no, with this error, and handed out no session. */
function refused(response: LightMyRequestResponse, status: number, code: string, what: string): void {
  assert.equal(response.statusCode, status, `${what}: ${response.body}`);
  assert.equal(assertErrorContract(response, what), code, what);
  assert.ok(!sessionCookieSet(response), `${what}: no session cookie`);
}

interface Holdings {
  password?: boolean;
  device?: boolean;
  key?: boolean;
}

interface Snapshot {
  passwordHash: string;
  recoveryKeyHash: string | null;
  state: string;
  texts: number;
}

async function snapshot(owner: Owner): Promise<Snapshot> {
  const stored = await t.app.services.store.accounts.findById(owner.id);
  assert.ok(stored);
  return {
    passwordHash: stored.password_hash,
    recoveryKeyHash: stored.recovery_key_hash ?? null,
    state: stored.state,
    texts: (await outboxFor(t, owner.phone)).length,
  };
}

/**
 * What an attacker (or the owner) with only `has` can try, on every endpoint that could get them in:
 * each one refuses. What they lack is guessed; a guessed code is one that is certainly wrong.
 */
async function tryEverything(u: TestApp, owner: Owner, has: Holdings): Promise<void> {
  assert.ok(
    [has.password, has.device, has.key].filter(Boolean).length < 2 || (await state(owner)) === 'locked',
    'two factors on an open account get in: not a row for this attack',
  );
  const locked = (await state(owner)) === 'locked';
  const password = has.password ? owner.password : GUESSED_PASSWORD;
  const key = has.key ? owner.recoveryKey : generateRecoveryKey(randomInt);
  const email = owner.email;

  // 1. Sign in with the password, then a code or the key instead of the code.
  const signIn = await u.request({ method: 'POST', url: '/api/v1/signin', payload: { email, password } });
  if (!has.password) refused(signIn, 401, 'INVALID_CREDENTIALS', 'sign-in with a guessed password');
  else if (locked) refused(signIn, 403, 'ACCOUNT_LOCKED', 'sign-in with the password on a locked account');
  else {
    assert.equal(signIn.statusCode, 200, signIn.body);
    assert.equal(signIn.json().status, 'two_step_required', 'the password alone is only a challenge');
    assert.equal(signIn.json().token, undefined);
    assert.ok(!sessionCookieSet(signIn), 'the password step sets no session cookie');
    const challenge = signIn.json().challenge as { id: string; channels: { id: string; type: string }[] };
    const sms = challenge.channels.find((c) => c.type === 'sms') as { id: string };
    // Anyone may have the code sent; it goes to the owner's phone, not to this client.
    assert.equal((await sendCode(u, challenge.id, sms.id)).statusCode, 202);
    const guess = otherCode(await smsCode(t, owner.phone));
    refused(await answer(u, challenge.id, guess), 400, 'CODE_WRONG', 'a guessed code for the sign-in');
    refused(
      await signInWithKey(u, { challengeId: challenge.id, recoveryKey: key }),
      400,
      'RECOVERY_KEY_WRONG',
      'a guessed key instead of the code',
    );
  }

  // 1b. On a locked account, the sign-in challenge left open from before the lock: its code (read off
  // the phone when this row has it) or a key instead of the code.
  if (locked && has.password && owner.openSignIn) {
    const open = owner.openSignIn;
    const sent = await sendCode(u, open.id, open.sms);
    assert.equal(sent.statusCode, 202, `the old challenge is still open: ${sent.body}`);
    const code = await smsCode(t, owner.phone);
    if (has.device) {
      refused(await answer(u, open.id, code), 403, 'ACCOUNT_LOCKED', 'the right code on a locked account');
      // The lock checked no code, so the challenge is still the way in with the recovery key (which
      // unlocks); a guessed key on it is checked and wrong.
      refused(
        await signInWithKey(u, { challengeId: open.id, recoveryKey: key }),
        400,
        'RECOVERY_KEY_WRONG',
        'a guessed key on the open challenge',
      );
    } else {
      // A locked account checks no code at all, right or wrong (code-guessing.test.ts).
      refused(await answer(u, open.id, otherCode(code)), 403, 'ACCOUNT_LOCKED', 'a guessed code');
      refused(
        await signInWithKey(u, { challengeId: open.id, recoveryKey: key }),
        400,
        'RECOVERY_KEY_WRONG',
        'a guessed key instead of the code, on a locked account',
      );
    }
  }

  // 2. Password and key in one go (lost device; opens a lock).
  const withKey = await signInWithKey(u, { email, password, recoveryKey: key });
  if (!has.password) refused(withKey, 401, 'INVALID_CREDENTIALS', 'key sign-in with a guessed password');
  else refused(withKey, 400, 'RECOVERY_KEY_WRONG', 'key sign-in with the password and a guessed key');

  // 3. Forgot password with the recovery key, then a code.
  const started = await startRecovery(u, email, key);
  if (!has.key) refused(started, 400, 'RECOVERY_KEY_WRONG', 'recovery with a guessed key');
  else {
    assert.equal(started.statusCode, 200, started.body);
    const { recoveryToken, challenge } = started.json() as {
      recoveryToken: string;
      challenge: { id: string; channels: { id: string; type: string }[] };
    };
    const sms = challenge.channels.find((c) => c.type === 'sms') as { id: string };
    const sent = await u.request({
      method: 'POST',
      url: '/api/v1/recovery/send',
      payload: { recoveryToken, channel: sms.id },
    });
    assert.equal(sent.statusCode, 202, sent.body);
    const guess = otherCode(await smsCode(t, owner.phone));
    refused(
      await u.request({ method: 'POST', url: '/api/v1/recovery/verify', payload: { recoveryToken, code: guess } }),
      400,
      'CODE_WRONG',
      'a guessed code for the recovery',
    );
    refused(
      await finishRecovery(u, recoveryToken, NEW_PASSWORD),
      409,
      'RECOVERY_STEP_INVALID',
      'a new password without the code',
    );
    refused(
      await signInWithKey(u, { challengeId: challenge.id, recoveryKey: key }),
      404,
      'NOT_FOUND',
      'the recovery challenge passed off as a sign-in challenge',
    );
    refused(
      await answer(u, challenge.id, guess),
      401,
      'UNAUTHENTICATED',
      'the recovery challenge answered as an account challenge',
    );
  }

  // 4. The date of birth is not a key, and no endpoint takes it.
  refused(await startRecovery(u, email, owner.birthDate), 400, 'RECOVERY_KEY_MISTYPED', 'the date of birth as a key');
  refused(
    await u.request({
      method: 'POST',
      url: '/api/v1/unlock',
      payload: { email, birthDate: owner.birthDate },
    }),
    400,
    'VALIDATION_FAILED',
    'email and date of birth',
  );

  // 5. The mailbox: "forgot password" on a two-step account emails how to use the key, never a link.
  const forgot = await requestReset(u, email);
  assert.equal(forgot.statusCode, 202, forgot.body);
  assert.equal(await resetLink(t, email), undefined, 'no reset link reaches even the real mailbox');
  refused(
    await resetWithToken(u, `${'A'.repeat(22)}.${'B'.repeat(43)}`, NEW_PASSWORD),
    400,
    'INVALID_TOKEN',
    'a made-up reset token',
  );
}

/** After the attack: no session, the same password and key, and a locked account still locked. */
async function assertNothingGained(owner: Owner, before: Snapshot, has: Holdings): Promise<void> {
  assert.equal(await activeSessions(owner.id), 0, 'no session exists');
  const after = await snapshot(owner);
  assert.equal(after.passwordHash, before.passwordHash, 'the password is unchanged');
  assert.ok(await t.app.services.hasher.verify(after.passwordHash, owner.password), "the owner's password still works");
  assert.equal(after.recoveryKeyHash, before.recoveryKeyHash, 'the recovery key is unchanged');
  if (before.state === 'locked') assert.equal(after.state, 'locked', 'the account is still locked');
  // Holding the phone alone gives nothing: without the password or the key no challenge exists, so no code is ever sent to it.
  if (has.device && !has.password && !has.key)
    assert.equal(after.texts, before.texts, 'the phone never received a code');
}

async function cannotGetIn(u: TestApp, owner: Owner, has: Holdings): Promise<void> {
  const before = await snapshot(owner);
  await tryEverything(u, owner, has);
  await assertNothingGained(owner, before, has);
}

// ---------------------------------------------------------------------------------------------
// The rows

describe('with two-step verification, not locked', () => {
  test('row 1: password + device + key → signs in with password + code', async () => {
    const u = client();
    const owner = await twoStepOwner(u);
    await assertSignedIn(u, await signInWithCode(u, owner, owner.password), 'two-step');
  });

  test('row 2: password + device, key lost → signs in with password + code, replaces the key', async () => {
    const u = client();
    const owner = await twoStepOwner(u);
    const token = await signInWithCode(u, owner, owner.password);
    const created = await u.request({ method: 'POST', url: '/api/v1/two-step/recovery-key', headers: bearer(token) });
    assert.equal(created.statusCode, 201, created.body);
    const newKey = created.json().recoveryKey as string;
    const confirmed = await u.request({
      method: 'POST',
      url: '/api/v1/two-step/recovery-key/confirm',
      headers: bearer(token),
      payload: { recoveryKey: newKey },
    });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    const lost = await startRecovery(u, owner.email, owner.recoveryKey);
    assert.equal(lost.json().error?.code, 'RECOVERY_KEY_WRONG', 'the lost key no longer works');
    assert.equal((await startRecovery(u, owner.email, newKey)).statusCode, 200, 'the new key works');
  });

  test('row 3: password + key, device lost → signs in with password + key, replaces the lost phone', async () => {
    const u = client();
    const owner = await twoStepOwner(u);
    const challenge = await passwordStep(u, owner.email, owner.password);
    const signedIn = await signInWithKey(u, { challengeId: challenge.id, recoveryKey: owner.recoveryKey });
    assert.equal(signedIn.statusCode, 200, signedIn.body);
    assert.equal(signedIn.json().status, 'signed_in');
    const newKey = signedIn.json().recoveryKey as string;
    assert.notEqual(newKey, owner.recoveryKey, 'the used key is replaced and the new one shown');
    const token = signedIn.json().token as string;
    await assertSignedIn(u, token, 'two-step');
    // Trust a new phone, then remove the lost one (the last second step of a two-step account stays).
    const phones = await u.request({ method: 'GET', url: '/api/v1/phones', headers: bearer(token) });
    const [lost] = phones.json().phones as { id: string }[];
    assert.ok(lost);
    const alone = await u.request({ method: 'DELETE', url: `/api/v1/phones/${lost.id}`, headers: bearer(token) });
    assert.equal(alone.json().error?.code, 'TWO_STEP_LAST_FACTOR', 'not while it is the only one');
    const phone = uniqueMobile();
    const added = await u.request({
      method: 'POST',
      url: '/api/v1/phones',
      headers: bearer(token),
      payload: { number: phone },
    });
    assert.equal(added.statusCode, 202, added.body);
    const verified = await answer(u, added.json().challenge.id, await smsCode(u, phone), {}, bearer(token));
    assert.equal(verified.statusCode, 200, verified.body);
    const removed = await u.request({ method: 'DELETE', url: `/api/v1/phones/${lost.id}`, headers: bearer(token) });
    assert.equal(removed.statusCode, 204, removed.body);
    // The next sign-in uses the new phone; the old key is spent.
    await assertSignedIn(u, await signInWithCode(u, { ...owner, phone }, owner.password), 'two-step');
    assert.equal((await startRecovery(u, owner.email, owner.recoveryKey)).json().error?.code, 'RECOVERY_KEY_WRONG');
  });

  test('row 4: device + key, password forgotten → recovers with key + code, sets a new password', async () => {
    const u = client();
    const owner = await twoStepOwner(u);
    const recoveryToken = await recoverToCodeVerified(u, owner);
    const finished = await finishRecovery(u, recoveryToken, NEW_PASSWORD);
    assert.equal(finished.statusCode, 200, finished.body);
    assert.ok(!sessionCookieSet(finished), 'the recovery itself does not sign in');
    assert.notEqual(finished.json().recoveryKey, owner.recoveryKey, 'a new key replaces the used one');
    const old = await u.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: owner.email, password: owner.password },
    });
    assert.equal(old.json().error?.code, 'INVALID_CREDENTIALS', 'the old password is gone');
    await assertSignedIn(u, await signInWithCode(u, owner, NEW_PASSWORD), 'two-step');
  });

  test('row 5: password only → cannot get in, not even with support', async () => {
    const u = client();
    await cannotGetIn(u, await twoStepOwner(u), { password: true });
  });

  test('row 6: device only → cannot get in, not even with support', async () => {
    const u = client();
    await cannotGetIn(u, await twoStepOwner(u), { device: true });
  });

  test('row 7: key only → cannot get in, not even with support', async () => {
    const u = client();
    await cannotGetIn(u, await twoStepOwner(u), { key: true });
  });

  test('row 8: nothing (email and date of birth at most) → cannot get in, not even with support', async () => {
    const u = client();
    await cannotGetIn(u, await twoStepOwner(u), {});
  });
});

describe('with two-step verification, locked after 10 wrong codes', () => {
  test('row 9: password + device + key → no code is asked (locked); signs in with password + key, which unlocks', async () => {
    const u = client();
    const owner = await lockedOwner(u);
    const texts = (await outboxFor(t, owner.phone)).length;
    const signIn = await u.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: owner.email, password: owner.password },
    });
    refused(signIn, 403, 'ACCOUNT_LOCKED', 'the password on a locked account opens no challenge');
    const signedIn = await signInWithKey(u, {
      email: owner.email,
      password: owner.password,
      recoveryKey: owner.recoveryKey,
    });
    assert.equal(signedIn.statusCode, 200, signedIn.body);
    assert.notEqual(signedIn.json().recoveryKey, owner.recoveryKey);
    await assertSignedIn(u, signedIn.json().token, 'two-step');
    assert.equal((await outboxFor(t, owner.phone)).length, texts, 'the locked account sent no code to the phone');
    assert.equal(await state(owner), 'active', 'the account is unlocked');
    await assertSignedIn(u, await signInWithCode(u, owner, owner.password), 'two-step');
  });

  test('row 10: password + device, key lost → cannot get in, not even with support', async () => {
    const u = client();
    await cannotGetIn(u, await lockedOwner(u), { password: true, device: true });
  });

  test('row 11: password + key, device lost → signs in with password + key, which unlocks', async () => {
    const u = client();
    const owner = await lockedOwner(u);
    const signedIn = await signInWithKey(u, {
      email: owner.email,
      password: owner.password,
      recoveryKey: owner.recoveryKey,
    });
    assert.equal(signedIn.statusCode, 200, signedIn.body);
    assert.equal(signedIn.json().status, 'signed_in');
    assert.notEqual(signedIn.json().recoveryKey, owner.recoveryKey);
    await assertSignedIn(u, signedIn.json().token, 'two-step');
    assert.equal(await state(owner), 'active', 'the account is unlocked');
  });

  test('row 12: device + key, password forgotten → recovers with key + code, sets a new password, which unlocks', async () => {
    const u = client();
    const owner = await lockedOwner(u);
    const recoveryToken = await recoverToCodeVerified(u, owner);
    const finished = await finishRecovery(u, recoveryToken, NEW_PASSWORD);
    assert.equal(finished.statusCode, 200, finished.body);
    assert.notEqual(finished.json().recoveryKey, owner.recoveryKey);
    assert.equal(await state(owner), 'active', 'the account is unlocked');
    await assertSignedIn(u, await signInWithCode(u, owner, NEW_PASSWORD), 'two-step');
  });

  test('row 13: password only → cannot get in, not even with support', async () => {
    const u = client();
    await cannotGetIn(u, await lockedOwner(u), { password: true });
  });

  test('row 14: device only → cannot get in, not even with support', async () => {
    const u = client();
    await cannotGetIn(u, await lockedOwner(u), { device: true });
  });

  test('row 15: key only → cannot get in, not even with support', async () => {
    const u = client();
    await cannotGetIn(u, await lockedOwner(u), { key: true });
  });

  test('row 16: nothing (email and date of birth at most) → cannot get in, not even with support', async () => {
    const u = client();
    await cannotGetIn(u, await lockedOwner(u), {});
  });
});

describe('without two-step verification', () => {
  async function plainAccount(u: TestApp): Promise<SignUpFields & { id: string }> {
    const account = await createVerifiedAccount(u);
    return { ...account, id: await accountId(account.email) };
  }

  function signIn(u: TestApp, email: string, password: string) {
    return u.request({ method: 'POST', url: '/api/v1/signin', payload: { email, password } });
  }

  test('row 17: password → signs in with the password alone', async () => {
    const u = client();
    const account = await plainAccount(u);
    const response = await signIn(u, account.email, account.password);
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().status, 'signed_in');
    await assertSignedIn(u, response.json().token, 'password');
  });

  test('row 18: access to the email, password forgotten → resets it with the emailed link, then signs in', async () => {
    const u = client();
    const account = await plainAccount(u);
    assert.equal((await requestReset(u, account.email)).statusCode, 202);
    const link = await resetLink(t, account.email);
    assert.ok(link, 'the link is in the mailbox');
    const reset = await resetWithToken(u, tokenOf(link), NEW_PASSWORD);
    assert.equal(reset.statusCode, 200, reset.body);
    assert.ok(!sessionCookieSet(reset), 'the reset itself does not sign in');
    assert.equal(await activeSessions(account.id), 0);
    const response = await signIn(u, account.email, NEW_PASSWORD);
    assert.equal(response.json().status, 'signed_in', response.body);
  });

  test('row 19: timed password delay → waits it out (never a permanent lock), then signs in with the password', async () => {
    const u = client();
    const account = await plainAccount(u);
    let delayed: LightMyRequestResponse | undefined;
    for (let i = 0; i < 12 && !delayed; i += 1) {
      const response = await signIn(u, account.email, `${GUESSED_PASSWORD} ${i}`);
      if (response.statusCode === 429) delayed = response;
      else assert.equal(response.json().error?.code, 'INVALID_CREDENTIALS');
    }
    assert.ok(delayed, 'wrong passwords lead to a delay');
    const waitSeconds = Number(delayed.headers['retry-after']);
    assert.ok(waitSeconds > 0 && waitSeconds <= t.config.policy.signinMaxDelaySeconds, `Retry-After ${waitSeconds}`);
    const during = await signIn(u, account.email, account.password);
    assert.equal(during.statusCode, 429, 'during the delay even the right password waits');
    assert.equal(await state(account), 'active', 'a delay, not a lock');
    t.clock.advance(waitSeconds * 1000);
    const response = await signIn(u, account.email, account.password);
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().status, 'signed_in');
  });

  test('row 20: neither password nor email (date of birth at most) → cannot get in, not even with support', async () => {
    const u = client();
    const account = await plainAccount(u);
    const before = await t.app.services.store.accounts.findById(account.id);
    const email = account.email;
    refused(await signIn(u, email, GUESSED_PASSWORD), 401, 'INVALID_CREDENTIALS', 'a guessed password');
    refused(
      await signInWithKey(u, { email, password: GUESSED_PASSWORD, recoveryKey: generateRecoveryKey(randomInt) }),
      401,
      'INVALID_CREDENTIALS',
      'key sign-in with a guessed password',
    );
    refused(
      await startRecovery(u, email, generateRecoveryKey(randomInt)),
      400,
      'RECOVERY_KEY_WRONG',
      'recovery with a guessed key (the account has none)',
    );
    refused(await startRecovery(u, email, account.birthDate), 400, 'RECOVERY_KEY_MISTYPED', 'the date of birth');
    // Anyone may ask for the link; it goes to the owner's mailbox, which this row does not have.
    assert.equal((await requestReset(u, email)).statusCode, 202);
    assert.ok(await resetLink(t, email), 'the link went to the owner, and only there');
    refused(
      await resetWithToken(u, `${'A'.repeat(22)}.${'B'.repeat(43)}`, NEW_PASSWORD),
      400,
      'INVALID_TOKEN',
      'a made-up reset token',
    );
    refused(
      await u.request({
        method: 'POST',
        url: '/api/v1/password/reset',
        payload: { email, birthDate: account.birthDate, newPassword: NEW_PASSWORD },
      }),
      400,
      'VALIDATION_FAILED',
      'email and date of birth instead of a token',
    );
    assert.equal(await activeSessions(account.id), 0, 'no session exists');
    const now = await t.app.services.store.accounts.findById(account.id);
    assert.equal(now?.password_hash, before?.password_hash, 'the password is unchanged');
  });
});
