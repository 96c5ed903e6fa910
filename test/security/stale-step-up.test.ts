// A protected change with a stale verification (SPEC §3.3, SECURITY.md item 31): on an account with
// two-step verification, adding, verifying or removing a trusted device, removing a phone and
// changing the country each need a two-step verification in the last 10 minutes. With a stolen but
// older session they answer STEP_UP_REQUIRED and change nothing; after a step-up they go through.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { createDeviceKeys } from '../../src/device/keys.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { pairDevice } from '../helpers/devices.ts';
import { bearer } from '../helpers/journeys.ts';
import { answer, enrolTwoStep, sendCode, smsCode, type TwoStepAccount, uniqueMobile } from '../helpers/two-step.ts';

const STALE_MS = 10 * 60_000 + 1000;

let t: TestApp;
before(async () => {
  t = await startTestApp({ CODE_SEND_INTERVAL_SECONDS: '0', CODE_SENDS_PER_HOUR: '100' });
});
after(() => t.close());

function assertStepUpRequired(response: LightMyRequestResponse): void {
  assert.equal(response.statusCode, 403, response.body);
  assert.equal(response.json().error.code, 'STEP_UP_REQUIRED');
}

/** Verifies the session again with a texted code, as POST /api/v1/step-up describes. */
async function stepUp(account: TwoStepAccount): Promise<void> {
  const started = await t.request({ method: 'POST', url: '/api/v1/step-up', headers: bearer(account.token) });
  assert.equal(started.statusCode, 201, started.body);
  const challenge = started.json().challenge;
  const sms = challenge.channels.find((c: { type: string }) => c.type === 'sms');
  assert.equal((await sendCode(t, challenge.id, sms.id, bearer(account.token))).statusCode, 202);
  const done = await answer(t, challenge.id, await smsCode(t, account.phone), {}, bearer(account.token));
  assert.equal(done.statusCode, 200, done.body);
}

async function get(account: TwoStepAccount, url: string) {
  const response = await t.request({ method: 'GET', url, headers: bearer(account.token) });
  assert.equal(response.statusCode, 200, response.body);
  return response.json();
}

describe('a stale verification is refused for protected changes, a fresh one passes', () => {
  test('registering a device', async () => {
    const account = await enrolTwoStep(t);
    t.clock.advance(STALE_MS);
    const register = () =>
      t.request({
        method: 'POST',
        url: '/api/v1/devices',
        headers: bearer(account.token),
        payload: { name: 'Late phone', model: 'Node test', publicKey: createDeviceKeys().publicKey },
      });
    assertStepUpRequired(await register());
    assert.equal((await get(account, '/api/v1/devices')).devices.length, 0, 'nothing was registered');
    await stepUp(account);
    assert.equal((await register()).statusCode, 201);
  });

  test('verifying a device', async () => {
    const account = await enrolTwoStep(t);
    const device = await pairDevice(t, account.token);
    t.clock.advance(STALE_MS);
    const verify = () =>
      t.request({ method: 'POST', url: `/api/v1/devices/${device.id}/verify`, headers: bearer(account.token) });
    assertStepUpRequired(await verify());
    await stepUp(account);
    const started = await verify();
    assert.equal(started.statusCode, 202, started.body);
    assert.equal(started.json().challenge.purpose, 'verify_device');
  });

  test('removing a device', async () => {
    const account = await enrolTwoStep(t);
    const device = await pairDevice(t, account.token);
    t.clock.advance(STALE_MS);
    const remove = () =>
      t.request({ method: 'DELETE', url: `/api/v1/devices/${device.id}`, headers: bearer(account.token) });
    assertStepUpRequired(await remove());
    assert.equal((await get(account, '/api/v1/devices')).devices.length, 1, 'the device is still there');
    await stepUp(account);
    assert.equal((await remove()).statusCode, 204);
    assert.equal((await get(account, '/api/v1/devices')).devices.length, 0);
  });

  test('removing a phone', async () => {
    const account = await enrolTwoStep(t);
    // A second phone, so that removing one leaves a way to receive codes.
    const added = await t.request({
      method: 'POST',
      url: '/api/v1/phones',
      headers: bearer(account.token),
      payload: { number: uniqueMobile() },
    });
    assert.equal(added.statusCode, 202, added.body);
    const phoneId = added.json().phone.id as string;
    t.clock.advance(STALE_MS);
    const remove = () =>
      t.request({ method: 'DELETE', url: `/api/v1/phones/${phoneId}`, headers: bearer(account.token) });
    assertStepUpRequired(await remove());
    assert.equal((await get(account, '/api/v1/phones')).phones.length, 2, 'the phone is still there');
    await stepUp(account);
    assert.equal((await remove()).statusCode, 204);
    assert.equal((await get(account, '/api/v1/phones')).phones.length, 1);
  });

  test('changing the country', async () => {
    const account = await enrolTwoStep(t);
    t.clock.advance(STALE_MS);
    const change = () =>
      t.request({ method: 'PATCH', url: '/api/v1/me', headers: bearer(account.token), payload: { country: 'BE' } });
    assertStepUpRequired(await change());
    assert.equal((await get(account, '/api/v1/me')).account.country, 'NL', 'the country is unchanged');
    await stepUp(account);
    const changed = await change();
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal((await get(account, '/api/v1/me')).account.country, 'BE');
  });
});
