// Authenticator apps (TOTP, RFC 6238; SECURITY.md §D) through the JSON API: enrolment confirmed by a
// first code, two-step verification with only an app where SMS is off, the second step of sign-in and
// step-up without any send; and the rules: the window (now and one step back, on a fake clock), each
// step once, concurrent copies of one code (exactly one success), wrong codes toward the account lock,
// the last factor kept, the secret sealed at rest and never logged.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, outboxFor, type SignUpFields, signInToken } from '../helpers/journeys.ts';
import { answer, passwordStep } from '../helpers/two-step.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp({ CODE_SEND_INTERVAL_SECONDS: '0', CODE_SENDS_PER_HOUR: '100' });
  // A country with two-step verification but no SMS: an authenticator app is the way in.
  await t.app.services.store.rollout.set([{ country: 'BE', twoStep: true, sms: false, wave: null }], t.clock.now());
});
after(() => t.close());

const STEP_MS = 30_000;

/** The app's code for a moment `offsetSteps` steps from the fake clock's now. */
function codeAt(secret: string, offsetSteps = 0): string {
  const totp = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
  return totp.generate({ timestamp: t.clock.now().getTime() + offsetSteps * STEP_MS });
}

/** Moves the fake clock to the start of the next time step, so a test's codes do not straddle one. */
function toNextStep(): void {
  const now = t.clock.now().getTime();
  t.clock.advance(STEP_MS - (now % STEP_MS) + 1);
}

async function startApp(token: string, label?: string) {
  const started = await t.request({
    method: 'POST',
    url: '/api/v1/authenticators',
    headers: bearer(token),
    payload: label === undefined ? {} : { label },
  });
  assert.equal(started.statusCode, 201, started.body);
  return started.json() as {
    authenticator: { id: string; confirmed: boolean };
    secret: string;
    secretGroups: string;
    uri: string;
    qrSvg: string;
  };
}

async function confirmApp(token: string, id: string, code: string) {
  return t.request({
    method: 'POST',
    url: `/api/v1/authenticators/${id}/confirm`,
    headers: bearer(token),
    payload: { code },
  });
}

interface AppAccount extends SignUpFields {
  token: string;
  secret: string;
  authenticatorId: string;
  recoveryKey: string;
}

/** An account in a country without SMS, with two-step verification on through an authenticator app only. */
async function enrolWithApp(): Promise<AppAccount> {
  const fields = await createVerifiedAccount(t, { country: 'BE' });
  const token = await signInToken(t, fields.email, fields.password);
  const started = await startApp(token, 'Phone app');
  toNextStep();
  const confirmed = await confirmApp(token, started.authenticator.id, codeAt(started.secret));
  assert.equal(confirmed.statusCode, 200, confirmed.body);
  const created = await t.request({ method: 'POST', url: '/api/v1/two-step/recovery-key', headers: bearer(token) });
  const recoveryKey = created.json().recoveryKey as string;
  const typed = await t.request({
    method: 'POST',
    url: '/api/v1/two-step/recovery-key/confirm',
    headers: bearer(token),
    payload: { recoveryKey },
  });
  assert.equal(typed.statusCode, 200, typed.body);
  const enabled = await t.request({
    method: 'POST',
    url: '/api/v1/two-step/enable',
    headers: bearer(token),
    payload: { acknowledged: true },
  });
  assert.equal(enabled.statusCode, 200, enabled.body);
  // The enrolment code's step is used; the tests start two steps on, so "one back" is fresh too.
  toNextStep();
  t.clock.advance(STEP_MS);
  return { ...fields, token, secret: started.secret, authenticatorId: started.authenticator.id, recoveryKey };
}

describe('enrolment', () => {
  test('a QR code and the secret in groups, confirmed by a first code, with an email and an audit event', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email, fields.password);
    const started = await startApp(token);
    assert.match(started.secret, /^[A-Z2-7]{32}$/, '160 bits in base32');
    assert.equal(started.secretGroups.replaceAll(' ', ''), started.secret);
    assert.match(started.secretGroups, /^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
    assert.match(started.uri, /^otpauth:\/\/totp\/Twostep:/);
    assert.match(started.uri, new RegExp(`secret=${started.secret}`));
    assert.match(started.qrSvg, /^<svg [^>]*viewBox/);
    assert.doesNotMatch(started.qrSvg, /style|script/i, 'nothing the CSP would refuse');
    assert.equal(started.authenticator.confirmed, false);

    // Not a channel before it is confirmed.
    const listed = await t.request({ method: 'GET', url: '/api/v1/authenticators', headers: bearer(token) });
    assert.equal(listed.json().authenticators[0].confirmed, false);

    toNextStep();
    const wrong = await confirmApp(token, started.authenticator.id, codeAt(started.secret, 1));
    assert.equal(wrong.json().error.code, 'CODE_WRONG');
    const code = codeAt(started.secret);
    const ok = await confirmApp(token, started.authenticator.id, code);
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().authenticator.confirmed, true);
    const again = await confirmApp(token, started.authenticator.id, code);
    assert.equal(again.statusCode, 410);

    const mail = (await outboxFor(t, fields.email)).find((m) => m.subject === 'An authenticator app was added');
    assert.ok(mail, 'the owner is told');
    const events = await t.database.db
      .selectFrom('audit_events')
      .select(['event', 'details'])
      .where('event', '=', 'totp.added')
      .execute();
    assert.ok(events.some((e) => (e.details as Record<string, unknown>).authenticator === started.authenticator.id));

    const status = await t.request({ method: 'GET', url: '/api/v1/two-step', headers: bearer(token) });
    assert.equal(status.json().authenticators, 1);

    // Sealed at rest, and neither the secret nor a code in the logs or the audit trail.
    const row = await t.database.db
      .selectFrom('authenticators')
      .selectAll()
      .where('id', '=', started.authenticator.id)
      .executeTakeFirstOrThrow();
    assert.ok(!row.secret_sealed.includes(started.secret));
    assert.match(row.secret_sealed, /^v1\./);
    assert.ok(!t.logText().includes(started.secret));
    assert.ok(!t.logText().includes(code));
    const audit = JSON.stringify(await t.database.db.selectFrom('audit_events').selectAll().execute());
    assert.ok(!audit.includes(started.secret));

    // Without two-step verification on, it can go (no step-up needed), and the owner is told.
    const removed = await t.request({
      method: 'DELETE',
      url: `/api/v1/authenticators/${started.authenticator.id}`,
      headers: bearer(token),
    });
    assert.equal(removed.statusCode, 204, removed.body);
    assert.ok((await outboxFor(t, fields.email)).some((m) => m.subject === 'An authenticator app was removed'));
    const gone = await t.request({ method: 'GET', url: '/api/v1/authenticators', headers: bearer(token) });
    assert.deepEqual(gone.json().authenticators, []);
  });

  test('too many wrong first codes end the enrolment', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email, fields.password);
    const started = await startApp(token);
    toNextStep();
    const statuses: string[] = [];
    for (let i = 0; i < 5; i += 1)
      statuses.push((await confirmApp(token, started.authenticator.id, codeAt(started.secret, 3))).json().error.code);
    assert.deepEqual(statuses, ['CODE_WRONG', 'CODE_WRONG', 'CODE_WRONG', 'CODE_WRONG', 'CHALLENGE_CLOSED']);
    const late = await confirmApp(token, started.authenticator.id, codeAt(started.secret));
    assert.equal(late.statusCode, 404);
  });

  test('two-step verification with only an authenticator app, where SMS is unavailable', async () => {
    const account = await enrolWithApp();
    const status = (await t.request({ method: 'GET', url: '/api/v1/two-step', headers: bearer(account.token) })).json();
    assert.equal(status.enabled, true);
    assert.equal(status.smsAvailable, false);
    assert.equal(status.verifiedPhones, 0);
    assert.equal(status.trustedDevices, 0);
    assert.equal(status.authenticators, 1);
    const phone = await t.request({
      method: 'POST',
      url: '/api/v1/phones',
      headers: bearer(account.token),
      payload: { number: '+32470123456' },
    });
    assert.notEqual(phone.statusCode, 202, 'no phone can be added there');
  });
});

describe('the second step', () => {
  test('sign-in: the app is a channel and its code answers without any send', async () => {
    const account = await enrolWithApp();
    const challenge = await passwordStep(t, account.email, account.password);
    const channel = challenge.channels.find((c) => c.type === 'totp');
    assert.ok(channel, 'the app is listed');
    const done = await answer(t, challenge.id, codeAt(account.secret));
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().status, 'signed_in');
  });

  test('the window: the current step and one back are accepted; two back and one forward are not', async () => {
    const account = await enrolWithApp();
    const results: Record<string, number> = {};
    for (const [name, offset] of [
      ['two back', -2],
      ['one forward', 1],
      ['one back', -1],
      ['current', 0],
    ] as const) {
      const challenge = await passwordStep(t, account.email, account.password);
      results[name] = (await answer(t, challenge.id, codeAt(account.secret, offset))).statusCode;
    }
    assert.deepEqual(results, { 'two back': 400, 'one forward': 400, 'one back': 200, current: 200 });
  });

  test('a code still works one step later, not two (fake clock)', async () => {
    const account = await enrolWithApp();
    const code = codeAt(account.secret);
    t.clock.advance(STEP_MS);
    const first = await passwordStep(t, account.email, account.password);
    assert.equal((await answer(t, first.id, code)).statusCode, 200);

    const later = codeAt(account.secret);
    t.clock.advance(2 * STEP_MS);
    const second = await passwordStep(t, account.email, account.password);
    const late = await answer(t, second.id, later);
    assert.equal(late.json().error.code, 'CODE_WRONG');
  });

  test('each step is accepted once, across challenges', async () => {
    const account = await enrolWithApp();
    const code = codeAt(account.secret);
    const first = await passwordStep(t, account.email, account.password);
    assert.equal((await answer(t, first.id, code)).statusCode, 200);
    const second = await passwordStep(t, account.email, account.password);
    const replay = await answer(t, second.id, code);
    assert.equal(replay.json().error.code, 'CODE_WRONG');
  });

  test('an older code still in the window cannot follow a newer one', async () => {
    const account = await enrolWithApp();
    const older = codeAt(account.secret, -1);
    const first = await passwordStep(t, account.email, account.password);
    assert.equal((await answer(t, first.id, codeAt(account.secret))).statusCode, 200);
    const second = await passwordStep(t, account.email, account.password);
    assert.equal((await answer(t, second.id, older)).json().error.code, 'CODE_WRONG');
  });

  test('20 concurrent answers with one right code: exactly one succeeds', async () => {
    const account = await enrolWithApp();
    const challenge = await passwordStep(t, account.email, account.password);
    const code = codeAt(account.secret);
    const answers = await Promise.all(Array.from({ length: 20 }, () => answer(t, challenge.id, code)));
    const statuses = answers.map((a) => a.statusCode);
    assert.equal(statuses.filter((s) => s === 200).length, 1, String(statuses));
  });

  test('20 concurrent answers with one code on 20 challenges: exactly one succeeds', async () => {
    const account = await enrolWithApp();
    const challenges = [];
    for (let i = 0; i < 20; i += 1) challenges.push(await passwordStep(t, account.email, account.password));
    const code = codeAt(account.secret);
    const answers = await Promise.all(challenges.map((c) => answer(t, c.id, code)));
    assert.equal(answers.filter((a) => a.statusCode === 200).length, 1);
  });

  test('wrong app codes count toward the account lock like any code', async () => {
    const account = await enrolWithApp();
    const wrong = codeAt(account.secret, 5);
    for (let round = 0; round < 2; round += 1) {
      const challenge = await passwordStep(t, account.email, account.password);
      for (let i = 0; i < 5; i += 1) {
        const answered = await answer(t, challenge.id, wrong);
        assert.equal(answered.statusCode, 400, answered.body);
      }
    }
    const locked = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: account.email, password: account.password },
    });
    assert.equal(locked.json().error.code, 'ACCOUNT_LOCKED');
  });

  test('forgot password: the recovery key and an app code', async () => {
    const account = await enrolWithApp();
    const started = await t.request({
      method: 'POST',
      url: '/api/v1/recovery',
      payload: { email: account.email, recoveryKey: account.recoveryKey },
    });
    assert.equal(started.statusCode, 200, started.body);
    assert.ok(started.json().challenge.channels.some((c: { type: string }) => c.type === 'totp'));
    const recoveryToken = started.json().recoveryToken as string;
    const verified = await t.request({
      method: 'POST',
      url: '/api/v1/recovery/verify',
      payload: { recoveryToken, code: codeAt(account.secret) },
    });
    assert.equal(verified.statusCode, 200, verified.body);
    const changed = await t.request({
      method: 'POST',
      url: '/api/v1/recovery/password',
      payload: { recoveryToken, newPassword: 'amber lantern drifts slowly' },
    });
    assert.equal(changed.statusCode, 200, changed.body);
  });

  test('step-up with an app code; the last factor stays; re-enrolment replaces the old secret', async () => {
    const account = await enrolWithApp();
    t.clock.advance(11 * 60_000);
    const url = `/api/v1/authenticators/${account.authenticatorId}`;
    const refused = await t.request({ method: 'DELETE', url, headers: bearer(account.token) });
    assert.equal(refused.json().error.code, 'STEP_UP_REQUIRED');

    const stepUp = await t.request({ method: 'POST', url: '/api/v1/step-up', headers: bearer(account.token) });
    assert.ok(stepUp.statusCode < 300, stepUp.body);
    const challenge = stepUp.json().challenge ?? stepUp.json();
    assert.ok(challenge.channels.some((c: { type: string }) => c.type === 'totp'));
    const raised = await answer(t, challenge.id, codeAt(account.secret), {}, bearer(account.token));
    assert.equal(raised.statusCode, 200, raised.body);
    assert.equal(raised.json().purpose, 'step_up');

    const last = await t.request({ method: 'DELETE', url, headers: bearer(account.token) });
    assert.equal(last.json().error.code, 'TWO_STEP_LAST_FACTOR');

    // One app per account: confirming a new one replaces the old.
    const second = await startApp(account.token, 'New phone');
    toNextStep();
    assert.equal((await confirmApp(account.token, second.authenticator.id, codeAt(second.secret))).statusCode, 200);
    const left = (await t.request({ method: 'GET', url: '/api/v1/authenticators', headers: bearer(account.token) }))
      .json()
      .authenticators.map((a: { id: string }) => a.id);
    assert.deepEqual(left, [second.authenticator.id]);
    toNextStep();
    const withOld = await passwordStep(t, account.email, account.password);
    assert.equal((await answer(t, withOld.id, codeAt(account.secret))).statusCode, 400, 'the old secret is dead');
    const withNew = await passwordStep(t, account.email, account.password);
    assert.equal((await answer(t, withNew.id, codeAt(second.secret))).statusCode, 200);
    const stillLast = await t.request({
      method: 'DELETE',
      url: `/api/v1/authenticators/${second.authenticator.id}`,
      headers: bearer(account.token),
    });
    assert.equal(stillLast.json().error.code, 'TWO_STEP_LAST_FACTOR');
  });
});
