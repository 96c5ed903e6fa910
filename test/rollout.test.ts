// SPEC §3.16 and §5: availability of two-step verification and SMS by country, the default (all on),
// and the `apple-2013` preset of Apple's historic waves, on every database backend.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FakeClock } from '../src/core/clock.ts';
import { presetRollout } from '../src/core/rollout.ts';
import { applyRolloutPreset, listRollout, setCountryFlags } from '../src/flows/rollout.ts';
import { createStore, type Store } from '../src/store/index.ts';
import { databaseBackends, openTestDatabase, type TestDatabase } from './helpers/backends.ts';

describe('the apple-2013 preset', () => {
  test('has the three historic waves and nothing else', () => {
    const states = presetRollout('apple-2013');
    assert.ok(states);
    const on = (wave: string) =>
      states
        .filter((s) => s.wave === wave)
        .map((s) => s.country)
        .sort();
    assert.deepEqual(on('2013-03-21'), ['AU', 'GB', 'IE', 'NZ', 'US']);
    assert.deepEqual(on('2013-05-10'), ['AR', 'AT', 'BE', 'BR', 'CA', 'MX', 'NL', 'PK', 'PL', 'RU']);
    assert.deepEqual(on('2014-02-20'), ['DE', 'ES', 'FR', 'IT', 'JP']);
    assert.equal(states.filter((s) => s.twoStep).length, 20);
    assert.deepEqual(
      states.find((s) => s.country === 'SE'),
      { country: 'SE', twoStep: false, sms: false, wave: null },
    );
  });

  test('an unknown preset is refused', () => {
    assert.equal(presetRollout('apple-2099'), undefined);
  });
});

for (const backend of databaseBackends()) {
  describe(`rollout administration on ${backend}`, () => {
    let database: TestDatabase;
    let store: Store;
    const clock = new FakeClock();
    before(async () => {
      database = await openTestDatabase(backend);
      store = createStore(database.db);
    });
    after(() => database.close());

    test('by default every country has two-step verification and SMS', async () => {
      const states = await listRollout({ store, clock });
      assert.equal(states.length, 249);
      assert.ok(states.every((s) => s.twoStep && s.sms));
    });

    test('a country can lose SMS but keep two-step verification, and the change is audited', async () => {
      const state = await setCountryFlags({ store, clock }, 'be', { sms: false }, 'operator:test');
      assert.deepEqual(state, { country: 'BE', twoStep: true, sms: false, wave: null });
      assert.deepEqual(await store.rollout.get('BE'), state);
      const events = await database.db
        .selectFrom('audit_events')
        .selectAll()
        .where('event', '=', 'rollout.changed')
        .execute();
      assert.equal(events.length, 1);
      assert.equal(events[0]?.actor, 'operator:test');
    });

    test('an unknown country code is refused', async () => {
      await assert.rejects(
        setCountryFlags({ store, clock }, 'XX', { twoStep: false }, 'operator:test'),
        /INVALID_COUNTRY/,
      );
    });

    test('applying apple-2013 sets every country, and a later change overrides one', async () => {
      await applyRolloutPreset({ store, clock }, 'apple-2013', 'operator:test');
      const states = await listRollout({ store, clock });
      assert.equal(states.filter((s) => s.twoStep).length, 20);
      assert.equal((await store.rollout.get('SE')).twoStep, false);
      assert.equal((await store.rollout.get('NL')).wave, '2013-05-10');
      await setCountryFlags({ store, clock }, 'SE', { twoStep: true, sms: true }, 'operator:test');
      assert.equal((await listRollout({ store, clock })).filter((s) => s.twoStep).length, 21);
    });
  });
}
