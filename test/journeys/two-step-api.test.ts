// SPEC §3.2–3.4, §3.11–3.12 through the JSON API: enrolment, sign-in with a code, trusted browsers,
// step-up for protected changes, turning it off; and what attackers try: skipping the code step,
// wrong codes across challenges, a code from another challenge, reuse, a resend to reset the count,
// a stale verification.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { generateRecoveryKey } from '../../src/core/recovery-key.ts';
import { sendEndedWaitingNotices } from '../../src/flows/two-step.ts';
import { GOOD_PASSWORD, startTestApp, type TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, outboxFor, signInToken } from '../helpers/journeys.ts';
import {
  addTrustedPhone,
  answer,
  enrolTwoStep,
  otherCode,
  passwordStep,
  sendCode,
  smsCode,
  type TwoStepAccount,
  turnTwoStepOff,
  uniqueMobile,
} from '../helpers/two-step.ts';

let t: TestApp;
before(async () => {
  // Send limits have their own tests below; here they would only slow the journeys down.
  t = await startTestApp({ CODE_SEND_INTERVAL_SECONDS: '0', CODE_SENDS_PER_HOUR: '100', SMS_PER_IP_PER_DAY: '10000' });
});
after(() => t.close());

/** A full sign-in (password, then the SMS code) that gives a new two-step session. */
async function signedIn(account: TwoStepAccount): Promise<string> {
  const challenge = await passwordStep(t, account.email, account.password);
  const sms = challenge.channels.find((c) => c.type === 'sms');
  assert.ok(sms);
  assert.equal((await sendCode(t, challenge.id, sms.id)).statusCode, 202);
  const done = await answer(t, challenge.id, await smsCode(t, account.phone));
  assert.equal(done.statusCode, 200, done.body);
  return done.json().token;
}

describe('enrolment', () => {
  test('a phone, a recovery key typed back and the acknowledgement turn it on, with an email', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email);
    const status = await t.request({ method: 'GET', url: '/api/v1/two-step', headers: bearer(token) });
    assert.deepEqual(status.json() as Record<string, unknown>, {
      enabled: false,
      available: true,
      smsAvailable: true,
      waitingUntil: null,
      trustedDevices: 0,
      verifiedPhones: 0,
      authenticators: 0,
      securityKeys: 0,
      recoveryKeyConfirmed: false,
      ready: false,
    });
    const early = await t.request({
      method: 'POST',
      url: '/api/v1/two-step/enable',
      headers: bearer(token),
      payload: { acknowledged: true },
    });
    assert.equal(early.json().error.code, 'TWO_STEP_NOT_READY');

    const phone = uniqueMobile();
    const added = await t.request({
      method: 'POST',
      url: '/api/v1/phones',
      headers: bearer(token),
      payload: { number: phone },
    });
    assert.equal(added.statusCode, 202);
    assert.equal(added.json().phone.verified, false);
    const verified = await answer(t, added.json().challenge.id, await smsCode(t, phone), {}, bearer(token));
    assert.equal(verified.json().phone.verified, true);

    const key = (
      await t.request({ method: 'POST', url: '/api/v1/two-step/recovery-key', headers: bearer(token) })
    ).json().recoveryKey as string;
    assert.match(key, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}$/);
    const typo = key.slice(0, 3) + (key[3] === 'A' ? 'B' : 'A') + key.slice(4);
    const mistyped = await t.request({
      method: 'POST',
      url: '/api/v1/two-step/recovery-key/confirm',
      headers: bearer(token),
      payload: { recoveryKey: typo },
    });
    assert.equal(mistyped.json().error.code, 'RECOVERY_KEY_MISTYPED');
    const other = await t.request({
      method: 'POST',
      url: '/api/v1/two-step/recovery-key/confirm',
      headers: bearer(token),
      payload: { recoveryKey: generateRecoveryKey(randomInt) },
    });
    assert.equal(other.json().error.code, 'RECOVERY_KEY_WRONG');
    const confirmed = await t.request({
      method: 'POST',
      url: '/api/v1/two-step/recovery-key/confirm',
      headers: bearer(token),
      payload: { recoveryKey: key.toLowerCase().replace(/-/g, ' ') },
    });
    assert.equal(confirmed.statusCode, 200);

    const unacknowledged = await t.request({
      method: 'POST',
      url: '/api/v1/two-step/enable',
      headers: bearer(token),
      payload: { acknowledged: false },
    });
    assert.equal(unacknowledged.json().error.code, 'ACKNOWLEDGEMENT_REQUIRED');
    const enabled = await t.request({
      method: 'POST',
      url: '/api/v1/two-step/enable',
      headers: bearer(token),
      payload: { acknowledged: true },
    });
    assert.equal(enabled.statusCode, 200);
    assert.match((await outboxFor(t, fields.email))[0]?.subject ?? '', /Two-step verification is on/);
    const me = await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });
    assert.equal(me.json().twoStep.enabled, true);
    assert.equal(me.json().twoStep.phones.length, 1);
    assert.doesNotMatch(JSON.stringify(me.json()), new RegExp(phone.slice(3)), 'the number is masked');
  });

  test('the recovery key is stored only as a hash', async () => {
    const account = await enrolTwoStep(t);
    const row = await t.database.db
      .selectFrom('accounts')
      .select('recovery_key_hash')
      .where('email', '=', account.email)
      .executeTakeFirstOrThrow();
    assert.match(row.recovery_key_hash ?? '', /^\$argon2id\$/);
    assert.ok(!(row.recovery_key_hash ?? '').includes(account.recoveryKey.replace(/-/g, '')));
  });

  test('not in a country without two-step verification in the rollout', async () => {
    await t.request({ method: 'GET', url: '/healthz' });
    await t.app.services.store.rollout.set([{ country: 'SE', twoStep: false, sms: false, wave: null }], t.clock.now());
    const fields = await createVerifiedAccount(t, { country: 'SE' });
    const token = await signInToken(t, fields.email);
    assert.equal(
      (await t.request({ method: 'GET', url: '/api/v1/two-step', headers: bearer(token) })).json().available,
      false,
    );
    const key = await t.request({ method: 'POST', url: '/api/v1/two-step/recovery-key', headers: bearer(token) });
    assert.equal(key.json().error.code, 'TWO_STEP_NOT_AVAILABLE');
  });

  test('three days must pass after a password change before it can be turned on', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email);
    await t.request({
      method: 'POST',
      url: '/api/v1/password',
      headers: bearer(token),
      payload: { currentPassword: GOOD_PASSWORD, newPassword: 'another long passphrase here' },
    });
    const waiting = await t.request({ method: 'POST', url: '/api/v1/two-step/recovery-key', headers: bearer(token) });
    assert.equal(waiting.json().error.code, 'TWO_STEP_WAITING_PERIOD');
    const status = (await t.request({ method: 'GET', url: '/api/v1/two-step', headers: bearer(token) })).json();
    assert.equal(new Date(status.waitingUntil).getTime(), t.clock.now().getTime() + 3 * 86_400_000);
    t.clock.advance(3 * 86_400_000 + 1000);
    const fresh = await signInToken(t, fields.email, 'another long passphrase here');
    assert.equal(
      (await t.request({ method: 'POST', url: '/api/v1/two-step/recovery-key', headers: bearer(fresh) })).statusCode,
      201,
    );
  });
});

describe('signing in with two-step verification', () => {
  test('the password alone gives no session: a code from the phone completes the sign-in', async () => {
    const account = await enrolTwoStep(t);
    const response = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: account.email, password: account.password },
    });
    assert.equal(response.json().status, 'two_step_required');
    assert.equal(response.headers['set-cookie'], undefined, 'no session cookie before the code');
    const challenge = response.json().challenge;
    assert.deepEqual(
      challenge.channels.map((c: { type: string }) => c.type),
      ['sms'],
    );
    // The challenge id is not a session: the API refuses it as a token.
    assert.equal(
      (await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(challenge.id) })).statusCode,
      401,
    );
    // Answering before any code was sent is just a wrong code.
    assert.equal((await answer(t, challenge.id, '000000')).json().error.code, 'CODE_WRONG');

    assert.equal((await sendCode(t, challenge.id, challenge.channels[0].id)).statusCode, 202);
    const code = await smsCode(t, account.phone);
    const done = await answer(t, challenge.id, code);
    assert.equal(done.json().status, 'signed_in');
    const me = await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(done.json().token) });
    assert.equal(me.json().session.assurance, 'two-step');
    assert.equal((await answer(t, challenge.id, code)).json().error.code, 'CHALLENGE_CLOSED', 'a used code is refused');
  });

  test('a code from another challenge does not work', async () => {
    const account = await enrolTwoStep(t);
    const first = await passwordStep(t, account.email, account.password);
    const second = await passwordStep(t, account.email, account.password);
    await sendCode(t, first.id, first.channels[0]?.id ?? '');
    const codeOfFirst = await smsCode(t, account.phone);
    assert.equal((await answer(t, second.id, codeOfFirst)).json().error.code, 'CODE_WRONG');
  });

  test('a resend replaces the code and never resets the failure count', async () => {
    const account = await enrolTwoStep(t);
    const challenge = await passwordStep(t, account.email, account.password);
    const channel = challenge.channels[0]?.id ?? '';
    await sendCode(t, challenge.id, channel);
    const oldCode = await smsCode(t, account.phone);
    assert.equal((await answer(t, challenge.id, otherCode(oldCode))).json().error.detail.attemptsLeft, 4);
    assert.equal((await answer(t, challenge.id, otherCode(oldCode))).json().error.detail.attemptsLeft, 3);
    await sendCode(t, challenge.id, channel);
    const newCode = await smsCode(t, account.phone);
    if (newCode !== oldCode) {
      const stale = await answer(t, challenge.id, oldCode);
      assert.equal(stale.json().error.code, 'CODE_WRONG', 'the old code died with the resend');
      assert.equal(stale.json().error.detail.attemptsLeft, 2);
    }
    assert.equal((await answer(t, challenge.id, newCode)).json().status, 'signed_in');
  });

  test('ten wrong codes across fresh challenges lock the account, even with the right password', async () => {
    const account = await enrolTwoStep(t);
    let wrong = 0;
    while (wrong < t.config.policy.wrongCodesPerAccount) {
      const challenge = await passwordStep(t, account.email, account.password);
      for (let i = 0; i < 3 && wrong < t.config.policy.wrongCodesPerAccount; i += 1, wrong += 1) {
        assert.equal((await answer(t, challenge.id, '123456')).statusCode, 400);
      }
    }
    const locked = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: account.email, password: account.password },
    });
    assert.equal(locked.statusCode, 403);
    assert.equal(locked.json().error.code, 'ACCOUNT_LOCKED');
  });

  test('"trust this browser" skips the code for 30 days, and a password change forgets it', async () => {
    const account = await enrolTwoStep(t);
    const challenge = await passwordStep(t, account.email, account.password);
    await sendCode(t, challenge.id, challenge.channels[0]?.id ?? '');
    const done = await answer(t, challenge.id, await smsCode(t, account.phone), { trustBrowser: true });
    const trustCookie = String(done.headers['set-cookie']).match(/twostep_trusted=([^;]+)/)?.[1];
    assert.ok(trustCookie, 'a trusted-browser cookie');
    const cookie = `twostep_trusted=${trustCookie}`;

    const again = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: account.email, password: account.password },
      headers: { cookie },
    });
    assert.equal(again.json().status, 'signed_in');
    const me = await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(again.json().token) });
    assert.equal(me.json().session.assurance, 'password', 'a trusted browser skips the code, not the step-up');

    t.clock.advance(30 * 86_400_000 + 1000);
    await passwordStep(t, account.email, account.password, cookie);
  });

  test('a trusted browser is forgotten when the password changes', async () => {
    const account = await enrolTwoStep(t);
    const challenge = await passwordStep(t, account.email, account.password);
    await sendCode(t, challenge.id, challenge.channels[0]?.id ?? '');
    const done = await answer(t, challenge.id, await smsCode(t, account.phone), { trustBrowser: true });
    const cookie = `twostep_trusted=${String(done.headers['set-cookie']).match(/twostep_trusted=([^;]+)/)?.[1]}`;
    const changed = await t.request({
      method: 'POST',
      url: '/api/v1/password',
      headers: bearer(done.json().token),
      payload: { currentPassword: account.password, newPassword: 'brand new passphrase words' },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    await passwordStep(t, account.email, 'brand new passphrase words', cookie);
  });
});

describe('protected changes need a recent two-step verification', () => {
  test('after 10 minutes a change needs a step-up; the step-up raises only this session', async () => {
    const account = await enrolTwoStep(t);
    const token = account.token;
    assert.equal(
      (
        await t.request({
          method: 'PATCH',
          url: '/api/v1/me',
          headers: bearer(token),
          payload: { name: 'Fresh Enough' },
        })
      ).statusCode,
      200,
    );
    t.clock.advance(10 * 60_000 + 1000);
    const stale = await t.request({
      method: 'PATCH',
      url: '/api/v1/me',
      headers: bearer(token),
      payload: { name: 'Too Late' },
    });
    assert.equal(stale.statusCode, 403);
    assert.equal(stale.json().error.code, 'STEP_UP_REQUIRED');
    for (const [method, url, payload] of [
      ['POST', '/api/v1/password', { currentPassword: account.password, newPassword: 'stale session passphrase' }],
      ['POST', '/api/v1/phones', { number: uniqueMobile() }],
      ['POST', '/api/v1/two-step/disable', { confirmed: true }],
      ['POST', '/api/v1/two-step/recovery-key', undefined],
    ] as const) {
      const response = await t.request({ method, url, headers: bearer(token), ...(payload ? { payload } : {}) });
      assert.equal(response.json().error?.code, 'STEP_UP_REQUIRED', url);
    }

    const other = await signedIn(account);
    const stepUp = await t.request({ method: 'POST', url: '/api/v1/step-up', headers: bearer(token) });
    assert.equal(stepUp.statusCode, 201);
    const challenge = stepUp.json().challenge;
    // Another session of the same account cannot answer (or even see) this session's step-up.
    assert.equal((await sendCode(t, challenge.id, challenge.channels[0].id, bearer(other))).statusCode, 404);
    await sendCode(t, challenge.id, challenge.channels[0].id, bearer(token));
    const code = await smsCode(t, account.phone);
    assert.equal((await answer(t, challenge.id, code, {}, bearer(other))).statusCode, 404);
    assert.equal((await answer(t, challenge.id, code, {}, bearer(token))).statusCode, 200);
    assert.equal(
      (await t.request({ method: 'PATCH', url: '/api/v1/me', headers: bearer(token), payload: { name: 'Stepped Up' } }))
        .statusCode,
      200,
    );
  });

  test('turning it off needs a step-up and a confirmation, emails the owner, and keeps the devices', async () => {
    const account = await enrolTwoStep(t);
    const unconfirmed = await t.request({
      method: 'POST',
      url: '/api/v1/two-step/disable',
      headers: bearer(account.token),
      payload: { confirmed: false },
    });
    assert.equal(unconfirmed.json().error.code, 'ACKNOWLEDGEMENT_REQUIRED');
    await turnTwoStepOff(t, account.token);
    assert.match((await outboxFor(t, account.email))[0]?.subject ?? '', /turned off/);
    const signin = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: account.email, password: account.password },
    });
    assert.equal(signin.json().status, 'signed_in');
    assert.equal(
      (await t.request({ method: 'GET', url: '/api/v1/phones', headers: bearer(signin.json().token) })).json().phones
        .length,
      1,
    );
  });
});

describe('removing a trusted phone', () => {
  const remove = (token: string, id: string) =>
    t.request({ method: 'DELETE', url: `/api/v1/phones/${id}`, headers: bearer(token) });
  const phoneIds = async (token: string): Promise<string[]> =>
    (await t.request({ method: 'GET', url: '/api/v1/phones', headers: bearer(token) }))
      .json()
      .phones.map((p: { id: string }) => p.id);

  test('the last trusted phone of a two-step account stays: 409 TWO_STEP_LAST_FACTOR, nothing removed', async () => {
    const account = await enrolTwoStep(t);
    const [only] = await phoneIds(account.token);
    assert.ok(only);
    const refused = await remove(account.token, only);
    assert.equal(refused.statusCode, 409);
    assert.deepEqual(Object.keys(refused.json()), ['error']);
    assert.equal(refused.json().error.code, 'TWO_STEP_LAST_FACTOR');
    assert.match(refused.json().error.message, /last way to receive a verification code/);
    assert.deepEqual(await phoneIds(account.token), [only]);
    assert.ok(
      !(await outboxFor(t, account.email)).some((m) => m.subject === 'A trusted phone number was removed'),
      'no removal notice for a removal that did not happen',
    );
    // An unverified number never counted: it can go, and the trusted one still stays.
    const pending = await t.request({
      method: 'POST',
      url: '/api/v1/phones',
      headers: bearer(account.token),
      payload: { number: uniqueMobile() },
    });
    assert.equal(pending.statusCode, 202, pending.body);
    assert.equal((await remove(account.token, pending.json().phone.id)).statusCode, 204);
    assert.equal((await remove(account.token, only)).json().error.code, 'TWO_STEP_LAST_FACTOR');
  });

  test('with another trusted phone one can go; once two-step verification is off, the last one too', async () => {
    const account = await enrolTwoStep(t);
    const [first] = await phoneIds(account.token);
    assert.ok(first);
    const second = await addTrustedPhone(t, account.token);
    assert.equal((await remove(account.token, first)).statusCode, 204);
    assert.equal((await remove(account.token, second.id)).json().error.code, 'TWO_STEP_LAST_FACTOR');
    await turnTwoStepOff(t, account.token);
    assert.equal((await remove(account.token, second.id)).statusCode, 204);
    assert.deepEqual(await phoneIds(account.token), []);
  });

  test('two phones removed at the same time: exactly one goes, the other is refused', async () => {
    for (let round = 0; round < 5; round++) {
      const account = await enrolTwoStep(t);
      const [first] = await phoneIds(account.token);
      assert.ok(first);
      const second = await addTrustedPhone(t, account.token);
      const answers = await Promise.all([remove(account.token, first), remove(account.token, second.id)]);
      assert.deepEqual(answers.map((a) => a.statusCode).sort(), [204, 409], answers.map((a) => a.body).join(' '));
      assert.equal(answers.find((a) => a.statusCode === 409)?.json().error.code, 'TWO_STEP_LAST_FACTOR');
      assert.equal((await phoneIds(account.token)).length, 1);
    }
  });

  test('turning it on while the only phone is removed: never on without a trusted factor', async () => {
    for (let round = 0; round < 5; round++) {
      const fields = await createVerifiedAccount(t);
      const token = await signInToken(t, fields.email, fields.password);
      const phone = await addTrustedPhone(t, token);
      const created = await t.request({ method: 'POST', url: '/api/v1/two-step/recovery-key', headers: bearer(token) });
      const confirmed = await t.request({
        method: 'POST',
        url: '/api/v1/two-step/recovery-key/confirm',
        headers: bearer(token),
        payload: { recoveryKey: created.json().recoveryKey },
      });
      assert.equal(confirmed.statusCode, 200, confirmed.body);
      const [enabled, removed] = await Promise.all([
        t.request({
          method: 'POST',
          url: '/api/v1/two-step/enable',
          headers: bearer(token),
          payload: { acknowledged: true },
        }),
        remove(token, phone.id),
      ]);
      const codes = [
        enabled.statusCode === 200 ? 'on' : enabled.json().error.code,
        removed.statusCode === 204 ? 'removed' : removed.json().error.code,
      ];
      assert.ok(
        (codes[0] === 'on' && codes[1] === 'TWO_STEP_LAST_FACTOR') ||
          (codes[0] === 'TWO_STEP_NOT_READY' && codes[1] === 'removed'),
        codes.join(' '),
      );
      const me = (await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(token) })).json();
      assert.equal(me.twoStep.enabled, codes[0] === 'on');
      assert.equal((await phoneIds(token)).length, codes[0] === 'on' ? 1 : 0);
    }
  });
});

describe('notifications', () => {
  test('a code sign-in, a phone added or removed, and a replaced recovery key each email the owner', async () => {
    const account = await enrolTwoStep(t);
    const subjects = async (): Promise<string[]> => (await outboxFor(t, account.email)).map((m) => m.subject ?? '');
    assert.ok((await subjects()).includes('A trusted phone number was added'));

    const token = await signedIn(account);
    const signInMail = (await outboxFor(t, account.email))[0];
    assert.equal(signInMail?.subject, 'New sign-in to your account');
    assert.match(signInMail?.body ?? '', /127\.0\.0\.1 \(local network\)/);

    const key = (
      await t.request({ method: 'POST', url: '/api/v1/two-step/recovery-key', headers: bearer(token) })
    ).json().recoveryKey;
    await t.request({
      method: 'POST',
      url: '/api/v1/two-step/recovery-key/confirm',
      headers: bearer(token),
      payload: { recoveryKey: key },
    });
    assert.equal((await subjects())[0], 'Your recovery key was replaced');
    // The old key died when the new one was made: it no longer starts a recovery.
    const oldKey = await t.request({
      method: 'POST',
      url: '/api/v1/recovery',
      payload: { email: account.email, recoveryKey: account.recoveryKey },
    });
    assert.equal(oldKey.json().error.code, 'RECOVERY_KEY_WRONG');

    const phones = (await t.request({ method: 'GET', url: '/api/v1/phones', headers: bearer(token) })).json().phones;
    // A second phone first: the last one of a two-step account is never removed.
    await addTrustedPhone(t, token);
    assert.equal(
      (await t.request({ method: 'DELETE', url: `/api/v1/phones/${phones[0].id}`, headers: bearer(token) })).statusCode,
      204,
    );
    assert.equal((await subjects())[0], 'A trusted phone number was removed');
  });

  test('someone who tried during the waiting period is emailed once when it ends', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email);
    await t.request({
      method: 'POST',
      url: '/api/v1/password',
      headers: bearer(token),
      payload: { currentPassword: GOOD_PASSWORD, newPassword: 'waiting room passphrase' },
    });
    assert.equal(
      (await t.request({ method: 'POST', url: '/api/v1/two-step/recovery-key', headers: bearer(token) })).json().error
        .code,
      'TWO_STEP_WAITING_PERIOD',
    );
    const notices = async (): Promise<number> =>
      (await outboxFor(t, fields.email)).filter((m) => m.subject === 'You can turn on two-step verification now')
        .length;
    await sendEndedWaitingNotices(t.app.services);
    assert.equal(await notices(), 0, 'nothing before the end');
    t.clock.advance(3 * 86_400_000 + 1000);
    assert.ok((await sendEndedWaitingNotices(t.app.services)) >= 1);
    assert.equal(await notices(), 1);
    await sendEndedWaitingNotices(t.app.services);
    assert.equal(await notices(), 1, 'once');
  });
});

describe('send limits', () => {
  test('one code per 30 seconds and per-number daily caps', async () => {
    const strict = await startTestApp({ SMS_PER_NUMBER_PER_DAY: '2' });
    try {
      const fields = await createVerifiedAccount(strict);
      const token = await signInToken(strict, fields.email);
      const number = uniqueMobile();
      const first = await strict.request({
        method: 'POST',
        url: '/api/v1/phones',
        headers: bearer(token),
        payload: { number },
      });
      assert.equal(first.statusCode, 202);
      const tooSoon = await strict.request({
        method: 'POST',
        url: '/api/v1/phones',
        headers: bearer(token),
        payload: { number },
      });
      assert.equal(tooSoon.statusCode, 429);
      assert.ok(Number(tooSoon.headers['retry-after']) > 0);
      // A second account sending to the same number hits the number's daily cap.
      const other = await createVerifiedAccount(strict);
      const otherToken = await signInToken(strict, other.email);
      assert.equal(
        (
          await strict.request({
            method: 'POST',
            url: '/api/v1/phones',
            headers: bearer(otherToken),
            payload: { number },
          })
        ).statusCode,
        202,
      );
      const third = await createVerifiedAccount(strict);
      const thirdToken = await signInToken(strict, third.email);
      const capped = await strict.request({
        method: 'POST',
        url: '/api/v1/phones',
        headers: bearer(thirdToken),
        payload: { number },
      });
      assert.equal(capped.statusCode, 429);
      assert.equal((await outboxFor(strict, number)).length, 2, 'nothing was sent past the cap');
    } finally {
      await strict.close();
    }
  });

  test('premium-rate numbers never get a text', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email);
    const premium = await t.request({
      method: 'POST',
      url: '/api/v1/phones',
      headers: bearer(token),
      payload: { number: '+449098790000' },
    });
    assert.equal(premium.json().error.code, 'PHONE_NUMBER_NOT_ALLOWED');
    assert.equal((await outboxFor(t, '+449098790000')).length, 0);
  });
});
