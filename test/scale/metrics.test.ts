// What an operator's dashboard sees at /metrics (issue 10): each counter and gauge moves when its
// event happens, and only then.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startListeningTestApp, type TestApp, uniqueEmail } from '../helpers/app.ts';
import { ownerWithTrustedDevice } from '../helpers/devices.ts';
import { bearer, createVerifiedAccount } from '../helpers/journeys.ts';
import { answer, enrolTwoStep, otherCode, passwordStep, sendCode, smsCode } from '../helpers/two-step.ts';

let t: TestApp & { baseUrl: string };
before(async () => {
  t = await startListeningTestApp(
    {
      CODE_SEND_INTERVAL_SECONDS: '0',
      CODE_SENDS_PER_HOUR: '100',
      WRONG_CODES_PER_ACCOUNT: '3',
      ALARM_FAILED_SIGNINS_PER_HOUR: '8',
    },
    { memoryKeyValue: true },
  );
});
after(() => t.close());

/** The value of one sample of /metrics (0 when the series does not exist yet). */
async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = (await t.request({ method: 'GET', url: '/metrics' })).body;
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const line = text
    .split('\n')
    .find((l) => l.startsWith(wanted ? `${name}{${wanted}} ` : `${name} `) && !l.startsWith('#'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function signIn(email: string, password: string) {
  return t.request({ method: 'POST', url: '/api/v1/signin', payload: { email, password } });
}

describe('flow metrics', () => {
  test('sign-ins are counted by outcome: failed, signed_in, two_step_required', async () => {
    const plain = await createVerifiedAccount(t);
    const failed = await metric('twostep_signins_total', { outcome: 'failed' });
    assert.equal((await signIn(plain.email, 'not the password at all')).statusCode, 401);
    assert.equal(await metric('twostep_signins_total', { outcome: 'failed' }), failed + 1);

    const signedIn = await metric('twostep_signins_total', { outcome: 'signed_in' });
    assert.equal((await signIn(plain.email, plain.password)).statusCode, 200);
    assert.equal(await metric('twostep_signins_total', { outcome: 'signed_in' }), signedIn + 1);

    const owner = await enrolTwoStep(t);
    const required = await metric('twostep_signins_total', { outcome: 'two_step_required' });
    const sessions = await metric('twostep_signins_total', { outcome: 'signed_in' });
    await passwordStep(t, owner.email, owner.password);
    assert.equal(await metric('twostep_signins_total', { outcome: 'two_step_required' }), required + 1);
    assert.equal(await metric('twostep_signins_total', { outcome: 'signed_in' }), sessions, 'no session yet');
  });

  test('a code sent by SMS and answered counts as sent, verified ok, and a sign-in', async () => {
    const owner = await enrolTwoStep(t);
    const challenge = await passwordStep(t, owner.email, owner.password);
    const sms = challenge.channels.find((c) => c.type === 'sms');
    assert.ok(sms);
    const sent = await metric('twostep_codes_sent_total', { channel: 'sms' });
    assert.equal((await sendCode(t, challenge.id, sms.id)).statusCode, 202);
    assert.equal(await metric('twostep_codes_sent_total', { channel: 'sms' }), sent + 1);

    const code = await smsCode(t, owner.phone);
    const wrong = await metric('twostep_codes_verified_total', { purpose: 'sign_in', outcome: 'wrong' });
    assert.equal((await answer(t, challenge.id, otherCode(code))).statusCode, 400);
    assert.equal(await metric('twostep_codes_verified_total', { purpose: 'sign_in', outcome: 'wrong' }), wrong + 1);

    const ok = await metric('twostep_codes_verified_total', { purpose: 'sign_in', outcome: 'ok' });
    const signedIn = await metric('twostep_signins_total', { outcome: 'signed_in' });
    assert.equal((await answer(t, challenge.id, code)).statusCode, 200);
    assert.equal(await metric('twostep_codes_verified_total', { purpose: 'sign_in', outcome: 'ok' }), ok + 1);
    assert.equal(await metric('twostep_signins_total', { outcome: 'signed_in' }), signedIn + 1);
  });

  test('spending the wrong-code budget counts one lockout, not one per wrong code', async () => {
    const owner = await enrolTwoStep(t);
    const challenge = await passwordStep(t, owner.email, owner.password);
    await sendCode(t, challenge.id, challenge.channels.find((c) => c.type === 'sms')?.id ?? '');
    const guess = otherCode(await smsCode(t, owner.phone));
    const locked = await metric('twostep_budget_lockouts_total', { kind: 'locked' });
    for (let i = 0; i < 2; i += 1) await answer(t, challenge.id, guess);
    assert.equal(await metric('twostep_budget_lockouts_total', { kind: 'locked' }), locked, 'budget not yet spent');
    await answer(t, challenge.id, guess);
    assert.equal(await metric('twostep_budget_lockouts_total', { kind: 'locked' }), locked + 1);
    assert.equal((await signIn(owner.email, owner.password)).json().error.code, 'ACCOUNT_LOCKED');
  });

  test('a connected device is a gauge; a code pushed to it counts as sent by device and delivered', async () => {
    const connected = await metric('twostep_connected_devices');
    const delivered = await metric('twostep_pushes_delivered_total');
    const sentByDevice = await metric('twostep_codes_sent_total', { channel: 'device' });
    const { device, owner, paired } = await ownerWithTrustedDevice(t);
    assert.equal(await metric('twostep_connected_devices'), connected + 1);
    // The verification code of the device, then the "answered" notice that puts it away.
    assert.ok((await metric('twostep_pushes_delivered_total')) >= delivered + 1);
    assert.equal(await metric('twostep_codes_sent_total', { channel: 'device' }), sentByDevice + 1);

    const before = await metric('twostep_pushes_delivered_total');
    const started = await t.request({
      method: 'POST',
      url: `/api/v1/devices/${paired.id}/verify`,
      headers: bearer(owner.token),
    });
    assert.equal(started.statusCode, 202, started.body);
    await device.next((m) => m.type === 'code' && m.challengeId === started.json().challenge.id);
    assert.equal(await metric('twostep_pushes_delivered_total'), before + 1);

    device.connection.close();
    // The server sees the close a moment later: poll the gauge (bounded), never sleep.
    for (let i = 0; i < 500 && (await metric('twostep_connected_devices')) !== connected; i += 1) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(await metric('twostep_connected_devices'), connected, 'the socket closed: the gauge falls back');
  });

  test('an alarm counts once in twostep_alarms_total{kind}, however far past its threshold', async () => {
    // The other tests fail a sign-in or two; these twelve cross the threshold of eight whatever the order.
    assert.ok((await metric('twostep_alarms_total', { kind: 'signin_failures' })) <= 1);
    for (let i = 0; i < 12; i += 1) {
      const response = await t.request({
        method: 'POST',
        url: '/api/v1/signin',
        remoteAddress: `192.0.2.${i + 1}`,
        payload: { email: uniqueEmail('listed'), password: 'a leaked password' },
      });
      assert.equal(response.statusCode, 401);
    }
    await t.app.services.background.drain();
    assert.equal(await metric('twostep_alarms_total', { kind: 'signin_failures' }), 1);
    assert.equal(await metric('twostep_alarms_total', { kind: 'sms' }), 0, 'texts are far below their threshold');
  });

  test('session checks count where they were answered: two from the database, then from the cache', async () => {
    const account = await createVerifiedAccount(t);
    const token = (await signIn(account.email, account.password)).json().token as string;
    const [misses, hits] = [
      await metric('twostep_session_cache_total', { outcome: 'miss' }),
      await metric('twostep_session_cache_total', { outcome: 'hit' }),
    ];
    for (let i = 0; i < 3; i += 1) {
      const me = await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });
      assert.equal(me.statusCode, 200, me.body);
    }
    assert.equal(await metric('twostep_session_cache_total', { outcome: 'miss' }), misses + 2);
    assert.equal(await metric('twostep_session_cache_total', { outcome: 'hit' }), hits + 1);
  });
});
