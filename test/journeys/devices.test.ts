// SPEC §3.5–3.6 and docs/device-protocol.md: pair a device, verify it with a pushed code, receive
// codes live and after reconnecting, "This wasn't me", removal closes the connection, the last trusted
// device of a two-step account stays (API, portal, the device itself, raced); and what an
// attacker tries: a forged signature, a replayed authentication, someone else's challenge, a used code.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectionUrl } from '../../src/device/connection.ts';
import { createDeviceKeys, signNonce } from '../../src/device/keys.ts';
import { startListeningTestApp, type TestApp } from '../helpers/app.ts';
import { connect, ownerWithTrustedDevice, pairDevice } from '../helpers/devices.ts';
import { bearer, createVerifiedAccount, outboxFor, signInToken } from '../helpers/journeys.ts';
import { turnTwoStepOff } from '../helpers/two-step.ts';
import { Browser } from '../security/support.ts';

let t: TestApp & { baseUrl: string };
before(async () => {
  // Resends to one device within 30 s are refused (SPEC §5; tested in two-step-api.test.ts). Redis keeps
  // real time, which the test clock cannot move, so this file turns the gap off.
  t = await startListeningTestApp({ CODE_SEND_INTERVAL_SECONDS: '0' });
});
after(() => t.close());

async function signedInAccount(): Promise<{ email: string; token: string }> {
  const fields = await createVerifiedAccount(t);
  return { email: fields.email, token: await signInToken(t, fields.email) };
}

async function startVerification(token: string, deviceId: string): Promise<string> {
  const response = await t.request({
    method: 'POST',
    url: `/api/v1/devices/${deviceId}/verify`,
    headers: bearer(token),
  });
  assert.equal(response.statusCode, 202, response.body);
  return response.json().challenge.id;
}

/** A raw socket that records every message and the close code. */
function rawSocket(): {
  ws: WebSocket;
  messages: Record<string, unknown>[];
  nextMessage(): Promise<Record<string, unknown>>;
  closeCode: Promise<number>;
} {
  const ws = new WebSocket(connectionUrl(t.baseUrl));
  const messages: Record<string, unknown>[] = [];
  let waiting: ((m: Record<string, unknown>) => void) | undefined;
  ws.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data));
    messages.push(message);
    waiting?.(message);
    waiting = undefined;
  });
  const closeCode = new Promise<number>((resolve) => ws.addEventListener('close', (event) => resolve(event.code)));
  return {
    ws,
    messages,
    closeCode,
    nextMessage: () =>
      new Promise((resolve) => {
        waiting = resolve;
      }),
  };
}

describe('trusted devices', () => {
  test('pair, connect, verify with the pushed code, and the device becomes trusted', async () => {
    const { email, token } = await signedInAccount();
    const device = await pairDevice(t, token, "Ann's phone");
    const listed = await t.request({ method: 'GET', url: '/api/v1/devices', headers: bearer(token) });
    assert.deepEqual(
      listed.json().devices.map((d: { name: string; trusted: boolean }) => [d.name, d.trusted]),
      [["Ann's phone", false]],
    );

    const live = connect(t.baseUrl, device);
    await live.connection.ready;
    const ready = await live.next((m) => m.type === 'ready');
    assert.deepEqual(ready.device, { id: device.id, name: "Ann's phone", trusted: false });

    const challengeId = await startVerification(token, device.id);
    const push = await live.next((m) => m.type === 'code' && m.challengeId === challengeId);
    assert.match(String(push.code), /^\d{6}$/);
    assert.equal(push.purpose, 'verify_device');
    const context = push.context as Record<string, string>;
    assert.equal(context.ip, '127.0.0.1');
    assert.equal(context.place, 'local network');
    assert.ok(context.browser && context.at);

    const wrongCode = String((Number(push.code) + 1) % 1_000_000).padStart(6, '0');
    const wrong = await t.request({
      method: 'POST',
      url: `/api/v1/challenges/${challengeId}/verify`,
      headers: bearer(token),
      payload: { code: wrongCode },
    });
    assert.equal(wrong.statusCode, 400);
    assert.equal(wrong.json().error.code, 'CODE_WRONG');
    assert.equal(wrong.json().error.detail.attemptsLeft, 4);

    const right = await t.request({
      method: 'POST',
      url: `/api/v1/challenges/${challengeId}/verify`,
      headers: bearer(token),
      payload: { code: String(push.code) },
    });
    assert.equal(right.statusCode, 200, right.body);
    assert.equal(right.json().device.trusted, true);
    await live.next((m) => m.type === 'trusted');
    await live.next((m) => m.type === 'cancelled' && m.challengeId === challengeId && m.reason === 'answered');
    const reuse = await t.request({
      method: 'POST',
      url: `/api/v1/challenges/${challengeId}/verify`,
      headers: bearer(token),
      payload: { code: String(push.code) },
    });
    assert.equal(reuse.json().error.code, 'CHALLENGE_CLOSED', 'a code works once');
    assert.match((await outboxFor(t, email))[0]?.subject ?? '', /trusted device was added/);
    live.connection.close();
  });

  test('a device that connects while a challenge is alive gets its code then', async () => {
    const { token } = await signedInAccount();
    const device = await pairDevice(t, token);
    const challengeId = await startVerification(token, device.id);
    const live = connect(t.baseUrl, device);
    const push = await live.next((m) => m.type === 'code' && m.challengeId === challengeId);
    assert.match(String(push.code), /^\d{6}$/);
    live.connection.close();

    // After the challenge is answered, a reconnecting device is not offered the used code again.
    await t.request({
      method: 'POST',
      url: `/api/v1/challenges/${challengeId}/verify`,
      headers: bearer(token),
      payload: { code: String(push.code) },
    });
    const again = connect(t.baseUrl, device);
    await again.next((m) => m.type === 'ready');
    await t.request({ method: 'GET', url: '/healthz' });
    assert.equal(again.messages.filter((m) => m.type === 'code').length, 0);
    again.connection.close();
  });

  test('a code expires with its challenge', async () => {
    const { token } = await signedInAccount();
    const device = await pairDevice(t, token);
    const live = connect(t.baseUrl, device);
    await live.connection.ready;
    const challengeId = await startVerification(token, device.id);
    const push = await live.next((m) => m.type === 'code');
    t.clock.advance(t.config.policy.codeLifetimeMinutes * 60_000 + 1);
    const late = await t.request({
      method: 'POST',
      url: `/api/v1/challenges/${challengeId}/verify`,
      headers: bearer(token),
      payload: { code: String(push.code) },
    });
    assert.equal(late.json().error.code, 'CODE_EXPIRED');
    live.connection.close();
  });

  test('"This wasn\'t me" cancels the challenge, emails the owner and is recorded', async () => {
    const { email, token } = await signedInAccount();
    const device = await pairDevice(t, token);
    const live = connect(t.baseUrl, device);
    await live.connection.ready;
    const challengeId = await startVerification(token, device.id);
    const push = await live.next((m) => m.type === 'code');
    live.connection.send({ type: 'deny', challengeId });
    await live.next((m) => m.type === 'denied' && m.challengeId === challengeId);
    await live.next((m) => m.type === 'cancelled' && m.challengeId === challengeId);
    const answer = await t.request({
      method: 'POST',
      url: `/api/v1/challenges/${challengeId}/verify`,
      headers: bearer(token),
      payload: { code: String(push.code) },
    });
    assert.equal(answer.json().error.code, 'CHALLENGE_CLOSED');
    assert.match((await outboxFor(t, email))[0]?.subject ?? '', /was not you/);
    const activity = await t.request({ method: 'GET', url: '/api/v1/activity', headers: bearer(token) });
    assert.ok(activity.json().events.some((e: { event: string }) => e.event === 'challenge.denied'));
    live.connection.close();
  });

  test('removing a device closes its connection at once', async () => {
    const { email, token } = await signedInAccount();
    const device = await pairDevice(t, token);
    const live = connect(t.baseUrl, device);
    await live.connection.ready;
    const removed = await t.request({ method: 'DELETE', url: `/api/v1/devices/${device.id}`, headers: bearer(token) });
    assert.equal(removed.statusCode, 204);
    assert.match(await live.closed, /^stopped:device removed/);
    const listed = await t.request({ method: 'GET', url: '/api/v1/devices', headers: bearer(token) });
    assert.deepEqual(listed.json().devices, []);
    // Its credential no longer opens a connection.
    const retry = connect(t.baseUrl, device);
    await assert.rejects(retry.connection.ready);
    const [mail] = await outboxFor(t, email);
    assert.equal(mail?.subject, 'A trusted device was removed from your account');
    assert.match(mail?.body ?? '', /Test phone \(Node test\) was removed from your Twostep account/);
  });

  test('turning two-step verification off keeps the devices registered, trusted and connected', async () => {
    const { owner, device } = await ownerWithTrustedDevice(t, 'Kept phone');
    try {
      await turnTwoStepOff(t, owner.token);
      const listed = await t.request({ method: 'GET', url: '/api/v1/devices', headers: bearer(owner.token) });
      assert.deepEqual(
        listed.json().devices.map((d: { name: string; trusted: boolean }) => [d.name, d.trusted]),
        [['Kept phone', true]],
      );
      const me = await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(owner.token) });
      assert.equal(me.json().twoStep.enabled, false);
      assert.deepEqual(
        me.json().twoStep.devices.map((d: { name: string }) => d.name),
        ['Kept phone'],
      );
      // Still connected: a code pushed now reaches it.
      const deviceId = listed.json().devices[0].id as string;
      const challengeId = await startVerification(owner.token, deviceId);
      await device.next((m) => m.type === 'code' && m.challengeId === challengeId);
    } finally {
      device.connection.close();
    }
  });
});

describe('removing the last trusted device of a two-step account', () => {
  const phoneIds = async (token: string): Promise<string[]> =>
    (await t.request({ method: 'GET', url: '/api/v1/phones', headers: bearer(token) }))
      .json()
      .phones.map((p: { id: string }) => p.id);
  const removePhone = (token: string, id: string) =>
    t.request({ method: 'DELETE', url: `/api/v1/phones/${id}`, headers: bearer(token) });
  const removeDevice = (token: string, id: string) =>
    t.request({ method: 'DELETE', url: `/api/v1/devices/${id}`, headers: bearer(token) });
  const deviceIds = async (token: string): Promise<string[]> =>
    (await t.request({ method: 'GET', url: '/api/v1/devices', headers: bearer(token) }))
      .json()
      .devices.map((d: { id: string }) => d.id);

  /** A two-step account whose only second step is one trusted, connected device (its phone removed). */
  async function ownerWithOnlyDevice() {
    const owned = await ownerWithTrustedDevice(t, 'Only phone');
    const [phone] = await phoneIds(owned.owner.token);
    assert.ok(phone);
    assert.equal((await removePhone(owned.owner.token, phone)).statusCode, 204, 'the device still answers');
    return owned;
  }

  test('the API refuses with 409 TWO_STEP_LAST_FACTOR, the device stays trusted and connected', async () => {
    const { owner, device, paired } = await ownerWithOnlyDevice();
    try {
      const refused = await removeDevice(owner.token, paired.id);
      assert.equal(refused.statusCode, 409);
      assert.deepEqual(Object.keys(refused.json()), ['error']);
      assert.equal(refused.json().error.code, 'TWO_STEP_LAST_FACTOR');
      assert.deepEqual(await deviceIds(owner.token), [paired.id]);
      // The device asking to forget itself is refused the same way.
      const forget = await t.request({
        method: 'POST',
        url: '/api/v1/devices/self/forget',
        headers: { authorization: `Device ${paired.credential}` },
      });
      assert.equal(forget.statusCode, 409);
      assert.equal(forget.json().error.code, 'TWO_STEP_LAST_FACTOR');
      assert.deepEqual(await deviceIds(owner.token), [paired.id]);
      // Still trusted and connected: a code pushed now reaches it.
      const challengeId = await startVerification(owner.token, paired.id);
      await device.next((m) => m.type === 'code' && m.challengeId === challengeId);
      assert.ok(
        !(await outboxFor(t, owner.email)).some((m) => m.subject === 'A trusted device was removed from your account'),
      );
    } finally {
      device.connection.close();
    }
  });

  test('the portal shows why on the removal page, in English and in Dutch', async () => {
    const { owner, device, paired } = await ownerWithOnlyDevice();
    try {
      const browser = new Browser(t);
      browser.cookies.set('twostep_session', owner.token);
      const form = `/account/devices/${paired.id}/remove`;
      const csrf = await browser.formToken(form);
      const refused = await browser.postForm(form, { _csrf: csrf, return: form });
      assert.equal(refused.statusCode, 409);
      assert.match(refused.body, /role="alert">This is the last way to receive a verification code\. Add another/);
      assert.match(refused.body, new RegExp(`action="${form}"`), 'the removal form is shown again');
      browser.cookies.set('twostep_lang', 'nl');
      const dutch = await browser.postForm(form, { _csrf: csrf, return: form });
      assert.equal(dutch.statusCode, 409);
      assert.match(dutch.body, /role="alert">Dit is de laatste manier om een verificatiecode te ontvangen\./);
      assert.deepEqual(await deviceIds(owner.token), [paired.id]);
    } finally {
      device.connection.close();
    }
  });

  test('the phone and the device removed at the same time: exactly one goes', async () => {
    for (let round = 0; round < 3; round++) {
      const { owner, device, paired } = await ownerWithTrustedDevice(t, `Raced phone ${round}`);
      try {
        const [phone] = await phoneIds(owner.token);
        assert.ok(phone);
        const answers = await Promise.all([removePhone(owner.token, phone), removeDevice(owner.token, paired.id)]);
        assert.deepEqual(answers.map((a) => a.statusCode).sort(), [204, 409], answers.map((a) => a.body).join(' '));
        assert.equal(answers.find((a) => a.statusCode === 409)?.json().error.code, 'TWO_STEP_LAST_FACTOR');
        assert.equal((await phoneIds(owner.token)).length + (await deviceIds(owner.token)).length, 1);
      } finally {
        device.connection.close();
      }
    }
  });

  test('allowed while a trusted phone remains, and once two-step verification is off', async () => {
    const kept = await ownerWithTrustedDevice(t, 'Spare phone');
    try {
      assert.equal((await removeDevice(kept.owner.token, kept.paired.id)).statusCode, 204, 'the phone remains');
    } finally {
      kept.device.connection.close();
    }
    const { owner, device, paired } = await ownerWithOnlyDevice();
    try {
      await turnTwoStepOff(t, owner.token);
      assert.equal((await removeDevice(owner.token, paired.id)).statusCode, 204);
      assert.deepEqual(await deviceIds(owner.token), []);
    } finally {
      device.connection.close();
    }
  });
});

describe('attacks on the device channel', () => {
  test('a forged signature is refused and the connection closed', async () => {
    const { token } = await signedInAccount();
    const device = await pairDevice(t, token);
    const socket = rawSocket();
    const hello = await socket.nextMessage();
    const impostor = createDeviceKeys();
    socket.ws.send(
      JSON.stringify({
        type: 'auth',
        credential: device.credential,
        signature: signNonce(impostor.privateKeyPem, String(hello.nonce)),
      }),
    );
    assert.equal(await socket.closeCode, 4401);
    assert.equal(socket.messages.at(-1)?.code, 'DEVICE_AUTH_FAILED');
  });

  test('a recorded authentication cannot be replayed on another connection', async () => {
    const { token } = await signedInAccount();
    const device = await pairDevice(t, token);
    const first = rawSocket();
    const hello = await first.nextMessage();
    const recorded = JSON.stringify({
      type: 'auth',
      credential: device.credential,
      signature: signNonce(device.keys.privateKeyPem, String(hello.nonce)),
    });
    first.ws.send(recorded);
    assert.equal((await first.nextMessage()).type, 'ready');
    first.ws.close();

    const second = rawSocket();
    await second.nextMessage();
    second.ws.send(recorded);
    assert.equal(await second.closeCode, 4401);
  });

  test('a second authentication attempt on one connection is refused', async () => {
    const { token } = await signedInAccount();
    const device = await pairDevice(t, token);
    const socket = rawSocket();
    const hello = await socket.nextMessage();
    socket.ws.send(JSON.stringify({ type: 'auth', credential: device.credential, signature: 'A'.repeat(86) }));
    socket.ws.send(
      JSON.stringify({
        type: 'auth',
        credential: device.credential,
        signature: signNonce(device.keys.privateKeyPem, String(hello.nonce)),
      }),
    );
    assert.equal(await socket.closeCode, 4401);
    assert.ok(!socket.messages.some((m) => m.type === 'ready'));
  });

  test("a connection from another site's page is refused", async () => {
    const ws = new WebSocket(connectionUrl(t.baseUrl), {
      headers: { origin: 'https://evil.example' },
    } as unknown as string[]);
    const code = await new Promise<number>((resolve) => ws.addEventListener('close', (event) => resolve(event.code)));
    assert.equal(code, 4400);
  });

  test("someone else's challenge cannot be answered or started", async () => {
    const owner = await signedInAccount();
    const stranger = await signedInAccount();
    const device = await pairDevice(t, owner.token);
    const live = connect(t.baseUrl, device);
    await live.connection.ready;
    const challengeId = await startVerification(owner.token, device.id);
    const push = await live.next((m) => m.type === 'code');
    const answer = await t.request({
      method: 'POST',
      url: `/api/v1/challenges/${challengeId}/verify`,
      headers: bearer(stranger.token),
      payload: { code: String(push.code) },
    });
    assert.equal(answer.statusCode, 404);
    const start = await t.request({
      method: 'POST',
      url: `/api/v1/devices/${device.id}/verify`,
      headers: bearer(stranger.token),
    });
    assert.equal(start.statusCode, 404);
    const remove = await t.request({
      method: 'DELETE',
      url: `/api/v1/devices/${device.id}`,
      headers: bearer(stranger.token),
    });
    assert.equal(remove.statusCode, 404);
    // The owner's challenge is untouched by the stranger's try.
    const own = await t.request({
      method: 'POST',
      url: `/api/v1/challenges/${challengeId}/verify`,
      headers: bearer(owner.token),
      payload: { code: String(push.code) },
    });
    assert.equal(own.statusCode, 200);
    live.connection.close();
  });

  test('50 concurrent answers with the right code: exactly one succeeds', async () => {
    const { token } = await signedInAccount();
    const device = await pairDevice(t, token);
    const live = connect(t.baseUrl, device);
    await live.connection.ready;
    const challengeId = await startVerification(token, device.id);
    const push = await live.next((m) => m.type === 'code');
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        t.request({
          method: 'POST',
          url: `/api/v1/challenges/${challengeId}/verify`,
          headers: bearer(token),
          payload: { code: String(push.code) },
        }),
      ),
    );
    assert.equal(answers.filter((a) => a.statusCode === 200).length, 1);
    live.connection.close();
  });

  test('wrong codes exhaust the challenge: after the budget even the right code is refused', async () => {
    const { token } = await signedInAccount();
    const device = await pairDevice(t, token);
    const live = connect(t.baseUrl, device);
    await live.connection.ready;
    const challengeId = await startVerification(token, device.id);
    const push = await live.next((m) => m.type === 'code');
    const wrongCode = String((Number(push.code) + 1) % 1_000_000).padStart(6, '0');
    const guesses = await Promise.all(
      Array.from({ length: 8 }, () =>
        t.request({
          method: 'POST',
          url: `/api/v1/challenges/${challengeId}/verify`,
          headers: bearer(token),
          payload: { code: wrongCode },
        }),
      ),
    );
    assert.equal(
      guesses.filter((g) => g.json().error.code === 'CODE_WRONG').length,
      t.config.policy.codeAttemptsPerChallenge,
      'no failure is lost under concurrency',
    );
    const right = await t.request({
      method: 'POST',
      url: `/api/v1/challenges/${challengeId}/verify`,
      headers: bearer(token),
      payload: { code: String(push.code) },
    });
    assert.equal(right.json().error.code, 'CHALLENGE_CLOSED');
    live.connection.close();
  });

  test('a public key that is not P-256, or carries a private part, is refused at pairing', async () => {
    const { token } = await signedInAccount();
    const keys = createDeviceKeys();
    for (const publicKey of [
      { ...keys.publicKey, crv: 'P-384' },
      { ...keys.publicKey, x: keys.publicKey.y.replace(/.$/, 'A') },
      { kty: 'EC', crv: 'P-256', x: 'short', y: 'short' },
    ]) {
      const response = await t.request({
        method: 'POST',
        url: '/api/v1/devices',
        headers: bearer(token),
        payload: { name: 'x', model: 'y', publicKey },
      });
      assert.equal(response.statusCode, 400, JSON.stringify(publicKey));
    }
  });
});
