// Number matching (SPEC §4): with NUMBER_MATCHING on, a sign-in push carries three numbers and no
// code; the browser is told the number to pick. The right pick releases the code to that device only;
// a wrong pick cancels the request and alerts the owner; nothing else releases the code.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startListeningTestApp, startTestApp, type TestApp } from '../helpers/app.ts';
import { ownerWithTrustedDevice } from '../helpers/devices.ts';
import { bearer, outboxFor } from '../helpers/journeys.ts';
import { answer, enrolTwoStep, passwordStep, sendCode, smsCode } from '../helpers/two-step.ts';
import { Browser } from './support.ts';

let t: TestApp & { baseUrl: string };
before(async () => {
  t = await startListeningTestApp({ NUMBER_MATCHING: 'true', CODE_SEND_INTERVAL_SECONDS: '0' });
});
after(() => t.close());

async function pushedMatch(email: string, password: string) {
  const challenge = await passwordStep(t, email, password);
  const device = challenge.channels.find((c) => c.type === 'device') as { id: string };
  const sent = await sendCode(t, challenge.id, device.id);
  assert.equal(sent.statusCode, 202, sent.body);
  const matchNumber = sent.json().matchNumber as number;
  assert.ok(Number.isInteger(matchNumber) && matchNumber >= 10 && matchNumber <= 99, sent.body);
  return { challengeId: challenge.id, matchNumber };
}

describe('number matching', () => {
  test('the push has three choices and no code; the right pick releases the code, which signs in', async () => {
    const { owner, device } = await ownerWithTrustedDevice(t);
    try {
      const { challengeId, matchNumber } = await pushedMatch(owner.email, owner.password);
      const match = await device.next((m) => m.type === 'match' && m.challengeId === challengeId);
      assert.equal(match.code, undefined, 'no code before the pick');
      const choices = match.choices as number[];
      assert.equal(choices.length, 3);
      assert.equal(new Set(choices).size, 3);
      assert.ok(choices.includes(matchNumber));
      assert.ok(!device.messages.some((m) => m.type === 'code' && m.challengeId === challengeId));
      device.connection.send({ type: 'match', challengeId, number: matchNumber });
      const push = await device.next((m) => m.type === 'code' && m.challengeId === challengeId);
      const signedIn = await answer(t, challengeId, String(push.code));
      assert.equal(signedIn.statusCode, 200, signedIn.body);
    } finally {
      device.connection.close();
    }
  });

  test('a wrong pick cancels the request and alerts the owner; the code is never released', async () => {
    const { owner, device } = await ownerWithTrustedDevice(t);
    try {
      const { challengeId, matchNumber } = await pushedMatch(owner.email, owner.password);
      const match = await device.next((m) => m.type === 'match' && m.challengeId === challengeId);
      const wrong = (match.choices as number[]).find((n) => n !== matchNumber) as number;
      device.connection.send({ type: 'match', challengeId, number: wrong });
      const denied = await device.next((m) => m.type === 'denied' && m.challengeId === challengeId);
      assert.equal(denied.reason, 'wrong_match');
      device.connection.send({ type: 'match', challengeId, number: matchNumber });
      await device.next((m) => m.type === 'error' && m.challengeId === challengeId);
      assert.ok(!device.messages.some((m) => m.type === 'code' && m.challengeId === challengeId));
      const late = await answer(t, challengeId, '000000');
      assert.equal(late.statusCode, 410, late.body);
      const mails = await outboxFor(t, owner.email);
      assert.ok(
        mails.some((m) => /This wasn't me|cancel/i.test(m.body) && m.subject?.match(/request|cancel/i)),
        'the owner is told',
      );
      const audit = await t.app.services.store.audit.listForAccount(
        (await t.app.services.store.accounts.findByEmail(owner.email))?.id as string,
        { limit: 50 },
      );
      assert.ok(audit.some((e) => e.event === 'challenge.match_failed'));
    } finally {
      device.connection.close();
    }
  });
});

describe('number matching an owner requires for their own account', () => {
  let off: TestApp & { baseUrl: string };
  before(async () => {
    off = await startListeningTestApp({ CODE_SEND_INTERVAL_SECONDS: '0' });
  });
  after(() => off.close());

  test('with the deployment policy off, the owner turns it on (a protected change) and pushes become matches', async () => {
    const { owner, device } = await ownerWithTrustedDevice(off);
    try {
      const first = await passwordStep(off, owner.email, owner.password);
      assert.equal((await sendCode(off, first.id, 'device')).json().matchNumber, undefined, 'off: a plain code push');
      await device.next((m) => m.type === 'code' && m.challengeId === first.id);
      off.clock.advance(11 * 60_000);
      const stale = await off.request({
        method: 'PUT',
        url: '/api/v1/two-step/number-matching',
        headers: bearer(owner.token),
        payload: { required: true },
      });
      assert.equal(stale.json().error.code, 'STEP_UP_REQUIRED', 'an old verification is not enough');
      off.clock.advance(-11 * 60_000);
      const turnedOn = await off.request({
        method: 'PUT',
        url: '/api/v1/two-step/number-matching',
        headers: bearer(owner.token),
        payload: { required: true },
      });
      assert.deepEqual(turnedOn.json(), { required: true, deployment: false });
      const next = await passwordStep(off, owner.email, owner.password);
      const sent = await sendCode(off, next.id, 'device');
      assert.ok(sent.json().matchNumber, sent.body);
      const match = await device.next((m) => m.type === 'match' && m.challengeId === next.id);
      assert.equal(match.code, undefined);
    } finally {
      device.connection.close();
    }
  });
});

describe('number matching on the account page', () => {
  let portalApp: TestApp;
  before(async () => {
    portalApp = await startTestApp({ CODE_SEND_INTERVAL_SECONDS: '0' });
  });
  after(() => portalApp.close());

  test('the owner turns it on and off in Password & Security', async () => {
    const owner = await enrolTwoStep(portalApp);
    const browser = new Browser(portalApp);
    await browser.postForm('/signin', {
      _csrf: await browser.formToken('/signin'),
      email: owner.email,
      password: owner.password,
    });
    const codeStep = await browser.get('/signin/verify');
    const channel = /name="channel" value="(sms:[^"]+)"/.exec(codeStep.body)?.[1] as string;
    await browser.postForm('/signin/verify/send', { _csrf: await browser.formToken('/signin/verify'), channel });
    const code = await smsCode(portalApp, owner.phone);
    const signedIn = await browser.postForm('/signin/verify', {
      _csrf: await browser.formToken('/signin/verify'),
      code,
    });
    assert.equal(signedIn.headers.location, '/account');
    assert.match((await browser.get('/account')).body, /Turn on number matching/);
    const toggle = async (required: 'yes' | 'no') =>
      browser.postForm('/account/number-matching', {
        _csrf: await browser.formToken('/account'),
        required,
        return: '/account#number-matching',
      });
    assert.equal((await toggle('yes')).statusCode, 303);
    assert.equal((await portalApp.app.services.store.accounts.findByEmail(owner.email))?.number_matching, true);
    assert.match((await browser.get('/account')).body, /Turn off number matching/);
    assert.equal((await toggle('no')).statusCode, 303);
    assert.equal((await portalApp.app.services.store.accounts.findByEmail(owner.email))?.number_matching, false);
  });
});
