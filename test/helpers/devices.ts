// A trusted device as a test drives it: its keys, its pairing, and a live connection whose messages
// can be awaited.
import assert from 'node:assert/strict';
import { connectDevice, type DeviceConnection, type DeviceMessage } from '../../src/device/connection.ts';
import { createDeviceKeys, type DeviceKeys } from '../../src/device/keys.ts';
import type { TestApp } from './app.ts';
import { bearer } from './journeys.ts';
import { enrolTwoStep, type TwoStepAccount } from './two-step.ts';

export interface PairedDevice {
  id: string;
  credential: string;
  keys: DeviceKeys;
}

export async function pairDevice(t: TestApp, sessionToken: string, name = 'Test phone'): Promise<PairedDevice> {
  const keys = createDeviceKeys();
  const response = await t.request({
    method: 'POST',
    url: '/api/v1/devices',
    headers: bearer(sessionToken),
    payload: { name, model: 'Node test', publicKey: keys.publicKey },
  });
  assert.equal(response.statusCode, 201, response.body);
  return { id: response.json().device.id, credential: response.json().credential, keys };
}

export interface LiveDevice {
  connection: DeviceConnection;
  messages: DeviceMessage[];
  /** Resolves with the next message (already received or still to come) that matches. */
  next(match: (message: DeviceMessage) => boolean): Promise<DeviceMessage>;
  closed: Promise<string>;
}

export function connect(baseUrl: string, device: PairedDevice): LiveDevice {
  const messages: DeviceMessage[] = [];
  const waiters: { match: (m: DeviceMessage) => boolean; resolve: (m: DeviceMessage) => void }[] = [];
  let closedWith: (detail: string) => void = () => {};
  const closed = new Promise<string>((resolve) => {
    closedWith = resolve;
  });
  const connection = connectDevice({
    server: baseUrl,
    credential: device.credential,
    privateKeyPem: device.keys.privateKeyPem,
    reconnect: false,
    onMessage(message) {
      messages.push(message);
      for (const waiter of [...waiters]) {
        if (waiter.match(message)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(message);
        }
      }
    },
    onStatus(status, detail) {
      if (status === 'stopped' || status === 'disconnected') closedWith(`${status}:${detail ?? ''}`);
    },
  });
  return {
    connection,
    messages,
    closed,
    next(match) {
      const seen = messages.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

/** A two-step account with a trusted device that is connected and receives pushed codes. */
export async function ownerWithTrustedDevice(
  t: TestApp & { baseUrl: string },
  deviceName = 'Ann’s phone',
): Promise<{ owner: TwoStepAccount; device: LiveDevice; paired: PairedDevice }> {
  const owner = await enrolTwoStep(t);
  const paired = await pairDevice(t, owner.token, deviceName);
  const device = connect(t.baseUrl, paired);
  await device.connection.ready;
  await device.next((m) => m.type === 'ready');
  const started = await t.request({
    method: 'POST',
    url: `/api/v1/devices/${paired.id}/verify`,
    headers: bearer(owner.token),
  });
  assert.equal(started.statusCode, 202, started.body);
  const challengeId = started.json().challenge.id as string;
  const push = await device.next((m) => m.type === 'code' && m.challengeId === challengeId);
  const verified = await t.request({
    method: 'POST',
    url: `/api/v1/challenges/${challengeId}/verify`,
    headers: bearer(owner.token),
    payload: { code: String(push.code) },
  });
  assert.equal(verified.json().device.trusted, true, verified.body);
  return { owner, device, paired };
}
