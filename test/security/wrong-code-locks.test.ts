// What wrong codes can lock, and for how long (SPEC §3.11, §5; flows/wrong-codes.ts):
// - someone holding only the recovery key, not the password, cannot lock the owner out with wrong
//   codes in "forgot password"; those codes have their own budget, which pauses recoveries instead;
// - an account without two-step verification (a phone left from an enrolment, or 2SV turned off)
//   never reaches the permanent `locked` state: its wrong-code budget ends in a timed lock that
//   grows, is bounded, and ends with a reset;
// - a 2SV account locked by a real run of wrong codes shows "locked for security reasons" in the portal.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, signInToken } from '../helpers/journeys.ts';
import { requestReset, resetLink, resetWithToken, startRecovery, tokenOf } from '../helpers/recovery.ts';
import { answer, enrolTwoStep, otherCode, passwordStep, sendCode, smsCode, uniqueMobile } from '../helpers/two-step.ts';
import { Browser } from './support.ts';

const NEW_PASSWORD = 'amber lantern drifts slowly';
const MINUTE = 60_000;

let t: TestApp;
before(async () => {
  t = await startTestApp(
    {
      PASSWORD_RESET_INTERVAL_SECONDS: '0',
      CODE_SEND_INTERVAL_SECONDS: '0',
      CODE_SENDS_PER_HOUR: '100',
      SMS_PER_IP_PER_DAY: '10000',
      SMS_PER_NUMBER_PER_DAY: '100',
      CODE_LOCK_MINUTES: '15',
      CODE_LOCK_MAX_MINUTES: '40',
      RECOVERY_PAUSE_HOURS: '24',
    },
    { memoryKeyValue: true },
  );
});
after(() => t.close());

async function stateOf(email: string): Promise<string | undefined> {
  return (await t.app.services.store.accounts.findByEmail(email))?.state;
}

async function signIn(email: string, password: string) {
  return t.request({ method: 'POST', url: '/api/v1/signin', payload: { email, password } });
}

/** Signs in with password + the code texted to `phone`; the answer of the code step. */
async function signInWithCode(email: string, password: string, phone: string) {
  const challenge = await passwordStep(t, email, password);
  const sms = challenge.channels.find((c) => c.type === 'sms');
  assert.ok(sms);
  assert.equal((await sendCode(t, challenge.id, sms.id)).statusCode, 202);
  return answer(t, challenge.id, await smsCode(t, phone));
}

/** One recovery with the key: sends the code to the phone; returns the recovery token. */
async function startKeyRecovery(email: string, recoveryKey: string): Promise<string> {
  const started = await startRecovery(t, email, recoveryKey);
  assert.equal(started.statusCode, 200, started.body);
  const { recoveryToken, challenge } = started.json();
  const sms = challenge.channels.find((c: { type: string }) => c.type === 'sms');
  const sent = await t.request({
    method: 'POST',
    url: '/api/v1/recovery/send',
    payload: { recoveryToken, channel: sms.id },
  });
  assert.equal(sent.statusCode, 202, sent.body);
  return recoveryToken;
}

async function recoveryCode(recoveryToken: string, code: string) {
  return t.request({ method: 'POST', url: '/api/v1/recovery/verify', payload: { recoveryToken, code } });
}

/** `count` wrong recovery codes, as a key holder guessing: 5 per recovery (then its challenge dies), a new recovery each time. */
async function wrongRecoveryCodes(email: string, recoveryKey: string, phone: string, count: number): Promise<void> {
  let left = count;
  while (left > 0) {
    const token = await startKeyRecovery(email, recoveryKey);
    const guess = otherCode(await smsCode(t, phone));
    for (let i = 0; i < t.config.policy.codeAttemptsPerChallenge && left > 0; i += 1, left -= 1) {
      const response = await recoveryCode(token, guess);
      assert.equal(response.json().error.code, 'CODE_WRONG', response.body);
    }
  }
}

describe('wrong codes in forgot password (the recovery key without the password)', () => {
  test('never lock the account: the owner still signs in with password + code', async () => {
    const owner = await enrolTwoStep(t);
    const budget = t.config.policy.wrongCodesPerAccount;
    await wrongRecoveryCodes(owner.email, owner.recoveryKey, owner.phone, budget);
    assert.equal(await stateOf(owner.email), 'active', 'the key holder could not lock the account');
    const signedIn = await signInWithCode(owner.email, owner.password, owner.phone);
    assert.equal(signedIn.statusCode, 200, signedIn.body);
    assert.equal(signedIn.json().status, 'signed_in');
  });

  test('spend a recovery budget of their own: then recoveries pause, with a retry time, even with the right code', async () => {
    const owner = await enrolTwoStep(t);
    const budget = t.config.policy.wrongCodesPerAccount;
    await wrongRecoveryCodes(owner.email, owner.recoveryKey, owner.phone, budget - 1);
    // A recovery started before the budget ran out, waiting for its code.
    const pending = await startKeyRecovery(owner.email, owner.recoveryKey);
    const rightCode = await smsCode(t, owner.phone);
    assert.equal((await recoveryCode(pending, otherCode(rightCode))).json().error.code, 'CODE_WRONG');

    const paused = await startRecovery(t, owner.email, owner.recoveryKey);
    assert.equal(paused.statusCode, 429, paused.body);
    assert.equal(paused.json().error.code, 'RECOVERY_PAUSED');
    const retryAfter = Number(paused.headers['retry-after']);
    assert.ok(retryAfter > 23 * 3600 && retryAfter <= 24 * 3600, String(retryAfter));
    const late = await recoveryCode(pending, rightCode);
    assert.equal(late.statusCode, 429, 'the open recovery cannot go on guessing either');
    assert.equal(late.json().error.code, 'RECOVERY_PAUSED');
    // In the portal, the open recovery's code page says so too.
    const browser = new Browser(t);
    browser.cookies.set('twostep_recovery', pending);
    const codePage = await browser.get('/forgot-password/code');
    assert.equal(codePage.statusCode, 429);
    assert.match(
      codePage.body,
      /role="alert">Too many wrong codes in recoveries of this account: recovery is paused\./,
    );
    const send = await t.request({
      method: 'POST',
      url: '/api/v1/recovery/send',
      payload: { recoveryToken: pending, channel: 'sms:any' },
    });
    assert.equal(send.json().error.code, 'RECOVERY_PAUSED', 'and no more codes are sent for it');

    // A stranger with a wrong key learns nothing about the pause.
    const stranger = await startRecovery(t, owner.email, 'AAAA-AAAA-AAAA-AA');
    assert.notEqual(stranger.json().error.code, 'RECOVERY_PAUSED');
    // Sign-in is another matter: the owner's password + code still work.
    assert.equal((await signInWithCode(owner.email, owner.password, owner.phone)).statusCode, 200);

    t.clock.advance(24 * 60 * MINUTE + 1000);
    const token = await startKeyRecovery(owner.email, owner.recoveryKey);
    const verified = await recoveryCode(token, await smsCode(t, owner.phone));
    assert.equal(verified.statusCode, 200, 'after the pause the recovery works again');
  });
});

describe('an account without two-step verification', () => {
  /** A session of an account without 2SV that has a verified phone: mid-enrolment, or after turning 2SV off. */
  async function withoutTwoStep(how: 'mid-enrolment' | 'turned-off') {
    if (how === 'turned-off') {
      const account = await enrolTwoStep(t);
      const off = await t.request({
        method: 'POST',
        url: '/api/v1/two-step/disable',
        headers: bearer(account.token),
        payload: { confirmed: true },
      });
      assert.equal(off.statusCode, 200, off.body);
      return { email: account.email, password: account.password, phone: account.phone, token: account.token };
    }
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email, fields.password);
    const phone = uniqueMobile();
    const added = await t.request({
      method: 'POST',
      url: '/api/v1/phones',
      headers: bearer(token),
      payload: { number: phone },
    });
    const verified = await answer(t, added.json().challenge.id, await smsCode(t, phone), {}, bearer(token));
    assert.equal(verified.statusCode, 200, verified.body);
    return { email: fields.email, password: fields.password, phone, token };
  }

  /** Wrong step-up codes from the session: a new step-up whenever one dies. */
  async function wrongStepUpCodes(account: { token: string; phone: string }, count: number) {
    let left = count;
    while (left > 0) {
      const started = await t.request({ method: 'POST', url: '/api/v1/step-up', headers: bearer(account.token) });
      assert.equal(started.statusCode, 201, started.body);
      const { id, channels } = started.json().challenge;
      const sms = channels.find((c: { type: string }) => c.type === 'sms');
      assert.equal((await sendCode(t, id, sms.id, bearer(account.token))).statusCode, 202);
      const guess = otherCode(await smsCode(t, account.phone));
      for (let i = 0; i < t.config.policy.codeAttemptsPerChallenge && left > 0; i += 1, left -= 1) {
        const response = await answer(t, id, guess, {}, bearer(account.token));
        assert.equal(response.json().error.code, 'CODE_WRONG', response.body);
      }
    }
  }

  for (const how of ['mid-enrolment', 'turned-off'] as const) {
    test(`(${how}) ten wrong codes give a timed lock, never the permanent one; it grows, is bounded, and ends`, async () => {
      const account = await withoutTwoStep(how);
      const budget = t.config.policy.wrongCodesPerAccount;
      const lockFor = async (minutes: number) => {
        await wrongStepUpCodes(account, budget);
        assert.equal(await stateOf(account.email), 'active', 'no permanent lock without a recovery key');
        const refused = await signIn(account.email, account.password);
        assert.equal(refused.statusCode, 429, refused.body);
        assert.equal(refused.json().error.code, 'ACCOUNT_LOCKED_FOR_NOW');
        assert.equal(Number(refused.headers['retry-after']), minutes * 60);
        assert.doesNotMatch(refused.json().error.message, /recovery key/);
        t.clock.advance(minutes * MINUTE - 1000);
        assert.equal(
          (await signIn(account.email, account.password)).statusCode,
          429,
          'still locked just before the end',
        );
        t.clock.advance(1000);
        assert.equal((await signIn(account.email, account.password)).statusCode, 200, 'open again after the lock');
      };
      await lockFor(15);
      await lockFor(30);
      await lockFor(40); // 60 would be next; CODE_LOCK_MAX_MINUTES bounds it
    });
  }

  test('during the timed lock even the right code is not checked; a reset ends the lock', async () => {
    const account = await withoutTwoStep('mid-enrolment');
    await wrongStepUpCodes(account, t.config.policy.wrongCodesPerAccount - 1);
    const started = await t.request({ method: 'POST', url: '/api/v1/step-up', headers: bearer(account.token) });
    const { id, channels } = started.json().challenge;
    const sms = channels.find((c: { type: string }) => c.type === 'sms');
    await sendCode(t, id, sms.id, bearer(account.token));
    const code = await smsCode(t, account.phone);
    assert.equal((await answer(t, id, otherCode(code), {}, bearer(account.token))).json().error.code, 'CODE_WRONG');
    const right = await answer(t, id, code, {}, bearer(account.token));
    assert.equal(right.statusCode, 429);
    assert.equal(right.json().error.code, 'ACCOUNT_LOCKED_FOR_NOW');
    // The portal says how long, and does not send an account without a recovery key to the unlock page.
    const browser = new Browser(t);
    const page = await browser.postForm('/signin', {
      _csrf: await browser.formToken('/signin'),
      email: account.email,
      password: account.password,
    });
    assert.equal(page.statusCode, 429);
    assert.match(page.body, /this account is locked for now\. Try again in 900 seconds, or reset your password\./);
    assert.doesNotMatch(page.body, /href="\/unlock"/);
    assert.match(page.body, /href="\/forgot-password"/);

    await requestReset(t, account.email);
    const reset = await resetWithToken(t, tokenOf((await resetLink(t, account.email)) as string), NEW_PASSWORD);
    assert.equal(reset.statusCode, 200, reset.body);
    const signedIn = await signIn(account.email, NEW_PASSWORD);
    assert.equal(signedIn.statusCode, 200, 'the reset ended the timed lock');
  });
});

describe('a two-step account locked by a real run of wrong codes', () => {
  test('the portal says it is locked for security reasons and points to the unlock page', async () => {
    const owner = await enrolTwoStep(t);
    let wrong = 0;
    while (wrong < t.config.policy.wrongCodesPerAccount) {
      const challenge = await passwordStep(t, owner.email, owner.password);
      for (let i = 0; i < 3 && wrong < t.config.policy.wrongCodesPerAccount; i += 1, wrong += 1)
        assert.equal((await answer(t, challenge.id, '123456')).json().error.code, 'CODE_WRONG');
    }
    assert.equal(await stateOf(owner.email), 'locked');
    const browser = new Browser(t);
    const page = await browser.postForm('/signin', {
      _csrf: await browser.formToken('/signin'),
      email: owner.email,
      password: owner.password,
    });
    assert.equal(page.statusCode, 403);
    assert.match(page.body, /role="alert">This account is locked for security reasons\./);
    assert.match(page.body, /href="\/unlock"/);
    assert.equal(browser.session(), undefined);
  });
});
