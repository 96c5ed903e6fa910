// A trusted device as a test drives it: its keys, its pairing, and a live connection whose messages
// can be awaited.
import assert from 'node:assert/strict';
import { connectDevice, type DeviceConnection, type DeviceMessage } from '../../src/device/connection.ts';
import { createDeviceKeys, type DeviceKeys } from '../../src/device/keys.ts';
import type { TestApp } from './app.ts';
import { bearer } from './journeys.ts';

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
