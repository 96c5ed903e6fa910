// An attacker who knows the password keeps asking for pushes, hoping the tired owner types or
// approves one (push fatigue, SPEC §4). At most PUSHES_PER_HOUR (5) pushes reach the devices of an
// account since its last accepted code; then nothing more is pushed, the answer says to use another
// way, and the other ways still work. An accepted code starts the count again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startListeningTestApp, type TestApp } from '../helpers/app.ts';
import { ownerWithTrustedDevice } from '../helpers/devices.ts';
import { answer, passwordStep, sendCode, smsCode } from '../helpers/two-step.ts';

let t: TestApp & { baseUrl: string };
before(async () => {
  t = await startListeningTestApp({ CODE_SEND_INTERVAL_SECONDS: '0', CODE_SENDS_PER_HOUR: '50' });
});
after(() => t.close());

describe('push bombing', () => {
  test('the sixth push in an hour is refused, other channels still work, and a success resets the count', async () => {
    const { owner, device } = await ownerWithTrustedDevice(t);
    try {
      const challenge = await passwordStep(t, owner.email, owner.password);
      const channel = (type: string) => challenge.channels.find((c) => c.type === type)?.id as string;
      const before = device.messages.filter((m) => m.type === 'code').length;
      // The enrolment's device verification was accepted, so the count starts from zero here.
      for (let i = 1; i <= 5; i += 1) {
        const sent = await sendCode(t, challenge.id, channel('device'));
        assert.equal(sent.statusCode, 202, `push ${i}: ${sent.body}`);
      }
      const sixth = await sendCode(t, challenge.id, channel('device'));
      assert.equal(sixth.statusCode, 429);
      assert.equal(sixth.json().error.code, 'PUSH_LIMIT_REACHED');
      assert.ok(Number(sixth.headers['retry-after']) > 0);
      await device.next(
        (m) => m.type === 'code' && device.messages.filter((x) => x.type === 'code').length >= before + 5,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(
        device.messages.filter((m) => m.type === 'code').length,
        before + 5,
        'nothing more reached the device',
      );

      const bySms = await sendCode(t, challenge.id, channel('sms'));
      assert.equal(bySms.statusCode, 202, 'a text message is still possible');
      const signedIn = await answer(t, challenge.id, await smsCode(t, owner.phone));
      assert.equal(signedIn.statusCode, 200, signedIn.body);

      const next = await passwordStep(t, owner.email, owner.password);
      const again = await sendCode(t, next.id, channel('device'));
      assert.equal(again.statusCode, 202, 'an accepted code starts the count again');
    } finally {
      device.connection.close();
    }
  });
});
