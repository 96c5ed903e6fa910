// The push hub's replay buffer: a code is published before its rows are written, so a device that
// authenticates in between must still get it from the node's memory, and must not get it once the
// challenge is over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { FakeClock } from '../../src/core/clock.ts';
import { PushHub } from '../../src/delivery/push/hub.ts';
import type { DevicePushStore } from '../../src/store/device-pushes.ts';
import { MemoryKeyValue } from '../../src/store/kv/memory.ts';

function emptyStore(): DevicePushStore & { kept: string[] } {
  const kept: string[] = [];
  return {
    kept,
    async addMany(deviceIds) {
      kept.push(...deviceIds);
    },
    async pending() {
      return [];
    },
    async removeForChallenge() {},
  };
}

async function settle(): Promise<void> {
  // Memory publish delivers on a microtask.
  await new Promise((resolve) => setImmediate(resolve));
}

test('a code published but not yet kept reaches a device that authenticates in between, until its challenge ends', async () => {
  const clock = new FakeClock();
  const store = emptyStore();
  const hub = new PushHub(new MemoryKeyValue(clock), store, pino({ level: 'silent' }));
  await hub.start();
  const expiresAt = new Date(clock.now().getTime() + 600_000).toISOString();
  await hub.publish(['d1'], { type: 'code', challengeId: 'c1', code: '111111', expiresAt });
  await settle();
  assert.deepEqual(
    (await hub.pendingFor('d1', clock.now())).map((p) => p.code),
    ['111111'],
  );
  assert.deepEqual(await hub.pendingFor('d2', clock.now()), [], 'only for the devices it was sent to');

  // A resend replaces the code of the same challenge.
  await hub.publish(['d1'], { type: 'code', challengeId: 'c1', code: '222222', expiresAt });
  await settle();
  assert.deepEqual(
    (await hub.pendingFor('d1', clock.now())).map((p) => p.code),
    ['222222'],
  );

  await hub.notify(['d1'], { type: 'cancelled', challengeId: 'c1' });
  await settle();
  assert.deepEqual(await hub.pendingFor('d1', clock.now()), [], 'an ended challenge is not replayed');

  await hub.publish(['d1'], { type: 'code', challengeId: 'c2', code: '333333', expiresAt });
  await settle();
  clock.advance(600_001);
  assert.deepEqual(await hub.pendingFor('d1', clock.now()), [], 'an expired code is not replayed');
  await hub.stop();
});
