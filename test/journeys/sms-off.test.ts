// Where the rollout turns SMS off (SPEC §3.16), only devices get codes: a verified phone in that
// country stops being offered as a channel, a send to it is refused and nothing is texted, while the
// trusted devices keep working. The number stays on the account and is offered again when SMS returns.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setCountryFlags } from '../../src/flows/rollout.ts';
import { startListeningTestApp, type TestApp } from '../helpers/app.ts';
import { ownerWithTrustedDevice } from '../helpers/devices.ts';
import { bearer, outboxFor } from '../helpers/journeys.ts';
import { answer, passwordStep, sendCode } from '../helpers/two-step.ts';

let t: TestApp & { baseUrl: string };
before(async () => {
  t = await startListeningTestApp({ CODE_SEND_INTERVAL_SECONDS: '0' });
});
after(() => t.close());

async function smsInNetherlands(sms: boolean): Promise<void> {
  await setCountryFlags({ store: t.app.services.store, clock: t.clock }, 'NL', { sms }, 'operator:test');
}

describe('SMS turned off for a country', () => {
  test('its phones are no longer offered or texted; devices still get codes; SMS back on, the phone is back', async () => {
    const { owner, device } = await ownerWithTrustedDevice(t);
    try {
      const before = await passwordStep(t, owner.email, owner.password);
      const smsChannel = before.channels.find((c) => c.type === 'sms')?.id;
      assert.ok(smsChannel, 'offered while SMS is on');
      const texts = (await outboxFor(t, owner.phone)).length;

      await smsInNetherlands(false);
      const challenge = await passwordStep(t, owner.email, owner.password);
      assert.deepEqual(
        challenge.channels.map((c) => c.type),
        ['device'],
      );
      for (const id of [challenge.id, before.id]) {
        const refused = await sendCode(t, id, smsChannel);
        assert.equal(refused.statusCode, 400, refused.body);
        assert.equal(refused.json().error.code, 'VALIDATION_FAILED');
      }
      assert.equal((await outboxFor(t, owner.phone)).length, texts, 'nothing was texted');

      assert.equal((await sendCode(t, challenge.id, 'device')).statusCode, 202);
      const push = await device.next((m) => m.type === 'code' && m.challengeId === challenge.id);
      const signedIn = await answer(t, challenge.id, String(push.code));
      assert.equal(signedIn.json().status, 'signed_in', signedIn.body);
      const token = signedIn.json().token as string;
      const phones = await t.request({ method: 'GET', url: '/api/v1/phones', headers: bearer(token) });
      assert.equal(phones.json().phones.length, 1, 'the number stays on the account');
      const another = await t.request({
        method: 'POST',
        url: '/api/v1/phones',
        headers: bearer(token),
        payload: { number: '+31612345678' },
      });
      assert.equal(another.json().error.code, 'PHONE_NUMBER_NOT_ALLOWED');

      await smsInNetherlands(true);
      const later = await passwordStep(t, owner.email, owner.password);
      assert.deepEqual(later.channels.map((c) => c.type).sort(), ['device', 'sms']);
      assert.equal((await sendCode(t, later.id, smsChannel)).statusCode, 202);
    } finally {
      device.connection.close();
      await smsInNetherlands(true);
    }
  });
});
