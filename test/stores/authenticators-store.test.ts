// The authenticator store (DESIGN.md convention 5) on every database backend: a TOTP time step is
// claimed by one conditional update, so of concurrent claims exactly one wins and no step at or
// before the last accepted one is accepted again (SECURITY.md item 19); removal is final.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { newAccountRow } from '../../src/store/accounts.ts';
import { createStore, type Store } from '../../src/store/index.ts';
import { databaseBackends, openTestDatabase, type TestDatabase } from '../helpers/backends.ts';

const at = new Date('2026-03-01T10:00:00Z');
const later = new Date('2026-03-01T11:00:00Z');
// A realistic time step (RFC 6238 §4.2: unix seconds / 30) for that moment.
const STEP = Math.floor(at.getTime() / 30_000);

for (const backend of databaseBackends()) {
  describe(`authenticator store on ${backend}`, () => {
    let database: TestDatabase;
    let store: Store;
    before(async () => {
      database = await openTestDatabase(backend);
      store = createStore(database.db);
    });
    after(() => database.close());

    async function newAuthenticator(): Promise<{ accountId: string; id: string }> {
      const account = newAccountRow(
        {
          id: randomUUID(),
          email: `${randomUUID()}@example.com`,
          password_hash: '$argon2id$placeholder',
          name: 'Store Test',
          birth_date: '1990-01-01',
          country: 'NL',
          locale: 'en',
        },
        at,
      );
      assert.ok(await store.accounts.create(account));
      const id = randomUUID();
      await store.authenticators.add({ id, accountId: account.id, label: 'App', secretSealed: 'v1.x', createdAt: at });
      return { accountId: account.id, id };
    }

    test('a step is claimed once; earlier steps never after a later one', async () => {
      const { id } = await newAuthenticator();
      assert.equal(await store.authenticators.claimStep(id, STEP), true);
      assert.equal(await store.authenticators.claimStep(id, STEP), false, 'the same step again');
      assert.equal(await store.authenticators.claimStep(id, STEP - 1), false, 'an earlier step');
      assert.equal(await store.authenticators.claimStep(id, STEP + 1), true, 'the next step');
    });

    test('20 concurrent claims of one step: exactly one wins', async () => {
      const { id } = await newAuthenticator();
      const claims = await Promise.all(Array.from({ length: 20 }, () => store.authenticators.claimStep(id, STEP)));
      assert.equal(claims.filter(Boolean).length, 1);
    });

    test('confirmed once; a removed one is gone and claims nothing', async () => {
      const { accountId, id } = await newAuthenticator();
      assert.equal((await store.authenticators.find(accountId, id))?.confirmedAt, null);
      assert.equal(await store.authenticators.markConfirmed(accountId, id, later), true);
      assert.equal(await store.authenticators.markConfirmed(accountId, id, later), false);
      assert.equal((await store.authenticators.find(accountId, id))?.confirmedAt?.getTime(), later.getTime());
      assert.equal(await store.authenticators.find(randomUUID(), id), undefined, "another account's");
      assert.equal(await store.authenticators.remove(accountId, id, later), true);
      assert.equal(await store.authenticators.remove(accountId, id, later), false);
      assert.deepEqual(await store.authenticators.listForAccount(accountId), []);
      assert.equal(await store.authenticators.claimStep(id, STEP + 5), false);
    });
  });
}
