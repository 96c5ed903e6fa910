// An attacker (or a hurried client) skips steps: turns two-step verification on before a factor and a
// recovery key exist, confirms a recovery key that was never shown, makes a protected change with a
// step-up started but never answered, answers a step-up through the sign-in door, confirms an email
// change that was never asked for or with a token made for something else. Every one is refused and
// nothing changes. (Sign-in and recovery step skipping: journeys/two-step-api, journeys/recovery-api.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, outboxFor, signInToken, verificationToken } from '../helpers/journeys.ts';
import { enrolTwoStep, sendCode, smsCode, uniqueMobile } from '../helpers/two-step.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp({ CODE_SEND_INTERVAL_SECONDS: '0', CODE_SENDS_PER_HOUR: '100' });
});
after(() => t.close());

async function post(url: string, token: string | undefined, payload: Record<string, unknown> = {}) {
  return t.request({ method: 'POST', url, headers: token ? bearer(token) : {}, payload });
}

async function twoStepEnabled(email: string): Promise<boolean> {
  return (await t.app.services.store.accounts.findByEmail(email))?.two_step_enabled_at != null;
}

describe('enrolment steps cannot be skipped', () => {
  test('turning it on needs a trusted factor, a recovery key typed back, and the acknowledgement, in that order', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email, fields.password);
    const enable = () => post('/api/v1/two-step/enable', token, { acknowledged: true });

    // Nothing yet.
    assert.equal((await enable()).json().error.code, 'TWO_STEP_NOT_READY');
    // A key typed back before one was ever made.
    const early = await post('/api/v1/two-step/recovery-key/confirm', token, { recoveryKey: 'ABCD-EFGH-JKMN-PQ' });
    assert.equal(early.statusCode, 400);
    // A phone added but not verified is no factor.
    const phone = uniqueMobile();
    const added = await post('/api/v1/phones', token, { number: phone });
    assert.equal(added.statusCode, 202, added.body);
    assert.equal((await enable()).json().error.code, 'TWO_STEP_NOT_READY');
    const verified = await post(`/api/v1/challenges/${added.json().challenge.id}/verify`, token, {
      code: await smsCode(t, phone),
    });
    assert.equal(verified.statusCode, 200, verified.body);
    // A key shown but not typed back does not count.
    const created = await post('/api/v1/two-step/recovery-key', token);
    assert.equal(created.statusCode, 201, created.body);
    assert.equal((await enable()).json().error.code, 'TWO_STEP_NOT_READY');
    const confirmed = await post('/api/v1/two-step/recovery-key/confirm', token, {
      recoveryKey: created.json().recoveryKey,
    });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    // Everything in place, but not acknowledged.
    const unacknowledged = await post('/api/v1/two-step/enable', token, { acknowledged: false });
    assert.equal(unacknowledged.statusCode, 400);
    assert.equal(unacknowledged.json().error.code, 'ACKNOWLEDGEMENT_REQUIRED');
    assert.equal(await twoStepEnabled(fields.email), false);
    assert.equal((await enable()).statusCode, 200);
    assert.equal(await twoStepEnabled(fields.email), true);
  });
});

describe('a step-up cannot be skipped', () => {
  test('a step-up started but not answered, or a code answered elsewhere, changes nothing', async () => {
    const owner = await enrolTwoStep(t);
    t.clock.advance(11 * 60_000);
    const rename = () =>
      t.request({
        method: 'PATCH',
        url: '/api/v1/me',
        headers: bearer(owner.token),
        payload: { name: 'Skipped Step' },
      });
    const started = await post('/api/v1/step-up', owner.token);
    assert.equal(started.statusCode, 201, started.body);
    const stepUp = started.json().challenge;
    // Started and sent, never answered.
    assert.equal((await sendCode(t, stepUp.id, stepUp.channels[0].id, bearer(owner.token))).statusCode, 202);
    assert.equal((await rename()).json().error.code, 'STEP_UP_REQUIRED');
    // The right code, sent to the sign-in door without a session: no step-up is completed by it.
    const code = await smsCode(t, owner.phone);
    const sideways = await post(`/api/v1/challenges/${stepUp.id}/verify`, undefined, { code });
    assert.notEqual(sideways.statusCode, 200);
    // A fresh sign-in elsewhere (a new two-step session) does not refresh this session.
    const other = await post('/api/v1/signin', undefined, { email: owner.email, password: owner.password });
    const signIn = other.json().challenge;
    await sendCode(t, signIn.id, signIn.channels[0].id);
    const elsewhere = await post(`/api/v1/challenges/${signIn.id}/verify`, undefined, {
      code: await smsCode(t, owner.phone),
    });
    assert.equal(elsewhere.statusCode, 200, elsewhere.body);
    assert.equal((await rename()).json().error.code, 'STEP_UP_REQUIRED');
    assert.notEqual((await t.app.services.store.accounts.findByEmail(owner.email))?.name, 'Skipped Step');
    // Answered as it should be, the change goes through.
    const answered = await post(`/api/v1/challenges/${stepUp.id}/verify`, owner.token, { code });
    assert.equal(answered.statusCode, 200, answered.body);
    assert.equal((await rename()).statusCode, 200);
  });
});

describe('an email change cannot be skipped', () => {
  test('a confirmation without a request, with a made-up token or with another kind of token changes nothing', async () => {
    const fields = await createVerifiedAccount(t);
    const confirm = (token: string) => post('/api/v1/me/email/confirm', undefined, { token });
    // A well-formed token nobody issued.
    assert.equal((await confirm('A'.repeat(43))).json().error.code, 'INVALID_TOKEN');
    // The token of an email verification is not a change token.
    const other = await t.request({
      method: 'POST',
      url: '/api/v1/signup',
      payload: { ...fields, email: `other.${fields.email}` },
    });
    assert.equal(other.statusCode, 202);
    const verifyToken = await verificationToken(t, `other.${fields.email}`);
    assert.equal((await confirm(verifyToken)).json().error.code, 'INVALID_TOKEN');
    // A real change, confirmed once; the same link a second time does nothing more.
    const token = await signInToken(t, fields.email, fields.password);
    const newEmail = `moved.${fields.email}`;
    const asked = await post('/api/v1/me/email', token, { newEmail, currentPassword: fields.password });
    assert.equal(asked.statusCode, 202, asked.body);
    const link = (await outboxFor(t, newEmail)).flatMap((m) => m.links).find((l) => l.includes('token='));
    assert.ok(link, 'the new address got a link');
    const changeToken = new URL(link).searchParams.get('token') as string;
    assert.equal((await confirm(changeToken)).statusCode, 200);
    assert.equal((await confirm(changeToken)).json().error.code, 'INVALID_TOKEN');
    assert.ok(await t.app.services.store.accounts.findByEmail(newEmail));
  });
});
