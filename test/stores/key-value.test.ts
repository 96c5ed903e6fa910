// One conformance suite for every key-value backend: in memory and Redis must agree, including
// atomicity under concurrency and expiry.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { FakeClock } from '../../src/core/clock.ts';
import type { KeyValue } from '../../src/store/kv/port.ts';
import { keyValueBackends, openTestKeyValue } from '../helpers/backends.ts';

for (const backend of keyValueBackends()) {
  describe(`key-value store on ${backend}`, () => {
    const clock = new FakeClock();
    let kv: KeyValue;
    /** Lets time pass: the fake clock for memory; real (short) time for Redis, whose clock we cannot move. */
    const pass = async (ms: number): Promise<void> => {
      clock.advance(ms);
      if (backend === 'redis') await new Promise((resolve) => setTimeout(resolve, ms));
    };
    before(() => {
      kv = openTestKeyValue(backend, clock);
    });
    after(() => kv.close());

    test('increment counts atomically under concurrency', async () => {
      const key = randomUUID();
      const results = await Promise.all(Array.from({ length: 100 }, () => kv.increment(key, 60_000)));
      assert.deepEqual(
        [...results].sort((a, b) => a - b),
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
      assert.equal(await kv.get(key), '100');
    });

    test('a counter window starts with the first increment and is not extended by later ones', async () => {
      const key = randomUUID();
      await kv.increment(key, 150);
      await pass(100);
      await kv.increment(key, 150);
      await pass(80);
      assert.equal(await kv.get(key), undefined);
      assert.equal(await kv.increment(key, 150), 1);
    });

    test('set, get, expiry and remaining time', async () => {
      const key = randomUUID();
      await kv.set(key, 'v', 120);
      assert.equal(await kv.get(key), 'v');
      const remaining = await kv.remainingMs(key);
      assert.ok(remaining !== undefined && remaining > 0 && remaining <= 120, `remaining ${remaining}`);
      await pass(150);
      assert.equal(await kv.get(key), undefined);
      assert.equal(await kv.remainingMs(key), undefined);
    });

    test('setIfAbsent: exactly one of many concurrent callers wins', async () => {
      const key = randomUUID();
      const wins = await Promise.all(Array.from({ length: 50 }, (_, i) => kv.setIfAbsent(key, String(i), 60_000)));
      assert.equal(wins.filter(Boolean).length, 1);
    });

    test('take: exactly one of many concurrent callers gets the value', async () => {
      const key = randomUUID();
      await kv.set(key, 'secret', 60_000);
      const taken = await Promise.all(Array.from({ length: 50 }, () => kv.take(key)));
      assert.deepEqual(
        taken.filter((v) => v !== undefined),
        ['secret'],
      );
      assert.equal(await kv.get(key), undefined);
    });

    test('delete removes a key', async () => {
      const key = randomUUID();
      await kv.set(key, 'x', 60_000);
      await kv.delete(key);
      assert.equal(await kv.get(key), undefined);
    });

    test('publish reaches every subscriber of the channel until it unsubscribes', async () => {
      const channel = randomUUID();
      const received: string[] = [];
      let deliver: () => void = () => {};
      const twoArrived = new Promise<void>((resolve) => {
        deliver = resolve;
      });
      const stopA = await kv.subscribe(channel, (m) => {
        received.push(`a:${m}`);
        if (received.length === 2) deliver();
      });
      const stopB = await kv.subscribe(channel, (m) => {
        received.push(`b:${m}`);
        if (received.length === 2) deliver();
      });
      await kv.publish(channel, 'hello');
      await twoArrived;
      assert.deepEqual(received.sort(), ['a:hello', 'b:hello']);
      await stopA();
      await stopB();
      await kv.publish(channel, 'after');
      await kv.ping(); // a round trip, so a message that was wrongly delivered would have arrived
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(received.length, 2);
    });

    test('ping answers', async () => {
      await kv.ping();
    });
  });
}
