// CODE_LENGTH=4 reproduces Apple 2013 (SPEC §5): codes have four digits and answer a sign-in as six
// digits do, and because a guess is 100 times likelier the attempt budgets tighten by themselves:
// 3 wrong codes kill a challenge, 5 in a row lock the account (config.ts SHORT_CODE_BUDGETS).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { answer, enrolTwoStep, otherCode, passwordStep, sendCode, smsCode } from '../helpers/two-step.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp({ CODE_LENGTH: '4', CODE_SEND_INTERVAL_SECONDS: '0' });
});
after(() => t.close());

describe('4-digit codes', () => {
  test('the budgets tighten only where the operator set none', () => {
    const budgets = (settings: Record<string, string>) => {
      const { policy } = loadConfig(settings);
      return [policy.codeAttemptsPerChallenge, policy.wrongCodesPerAccount];
    };
    assert.deepEqual(budgets({}), [5, 10]);
    assert.deepEqual(budgets({ CODE_LENGTH: '4' }), [3, 5]);
    assert.deepEqual(
      budgets({ CODE_LENGTH: '4', CODE_ATTEMPTS_PER_CHALLENGE: '5', WRONG_CODES_PER_ACCOUNT: '8' }),
      [5, 8],
    );
    assert.deepEqual(budgets({ CODE_LENGTH: '5' }), [5, 10]);
  });

  test('a texted 4-digit code signs in; a 6-digit answer is not a code', async () => {
    const account = await enrolTwoStep(t);
    const challenge = await passwordStep(t, account.email, account.password);
    const sms = challenge.channels.find((c) => c.type === 'sms');
    assert.ok(sms);
    assert.equal((await sendCode(t, challenge.id, sms.id)).statusCode, 202);
    const code = await smsCode(t, account.phone);
    assert.match(code, /^\d{4}$/);
    assert.equal((await answer(t, challenge.id, `${code}00`)).json().error.code, 'CODE_WRONG');
    const done = await answer(t, challenge.id, code);
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().status, 'signed_in');
  });

  test('three wrong codes kill a challenge, even for the right code after them', async () => {
    const account = await enrolTwoStep(t);
    const challenge = await passwordStep(t, account.email, account.password);
    await sendCode(t, challenge.id, challenge.channels[0]?.id ?? '');
    const code = await smsCode(t, account.phone);
    const left: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const wrong = await answer(t, challenge.id, otherCode(code));
      assert.equal(wrong.json().error.code, 'CODE_WRONG');
      left.push(wrong.json().error.detail.attemptsLeft);
    }
    assert.deepEqual(left, [2, 1, 0]);
    const late = await answer(t, challenge.id, code);
    assert.equal(late.statusCode, 410);
    assert.equal(late.json().error.code, 'CHALLENGE_CLOSED');
  });

  test('five wrong codes in a row, across challenges, lock the account', async () => {
    const account = await enrolTwoStep(t);
    const first = await passwordStep(t, account.email, account.password);
    for (let i = 0; i < 3; i += 1) assert.equal((await answer(t, first.id, '1234')).statusCode, 400);
    const second = await passwordStep(t, account.email, account.password);
    assert.equal((await answer(t, second.id, '1234')).statusCode, 400);
    // Not locked yet: the password still leads to a challenge.
    await passwordStep(t, account.email, account.password);
    assert.equal((await answer(t, second.id, '1234')).statusCode, 400);
    const locked = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: account.email, password: account.password },
    });
    assert.equal(locked.statusCode, 403);
    assert.equal(locked.json().error.code, 'ACCOUNT_LOCKED');
  });
});
