// The app-specific password store (DESIGN.md convention 5) on the embedded PGlite and on a
// PostgreSQL server: the limit and the uniqueness of live hints hold under parallel additions, and
// revoking is final.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type Account, newAccountRow } from '../../src/store/accounts.ts';
import type { NewAppPassword } from '../../src/store/app-passwords.ts';
import { createStore, type Store } from '../../src/store/index.ts';
import { databaseBackends, openTestDatabase, type TestDatabase } from '../helpers/backends.ts';

const at = new Date('2026-03-01T10:00:00Z');
const later = new Date('2026-03-01T11:00:00Z');

for (const backend of databaseBackends()) {
  describe(`app-specific password store on ${backend}`, () => {
    let database: TestDatabase;
    let store: Store;
    before(async () => {
      database = await openTestDatabase(backend);
      store = createStore(database.db);
    });
    after(() => database.close());

    async function account(): Promise<Account> {
      const row = newAccountRow(
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
      assert.ok(await store.accounts.create(row));
      return row;
    }

    function row(accountId: string, hint: string, label = `label ${hint}`): NewAppPassword {
      return { id: randomUUID(), accountId, label, hint, passwordHash: `$argon2id$${hint}`, createdAt: at };
    }

    test('adds up to the limit, refuses a live hint twice, and finds a password by its hint', async () => {
      const a = await account();
      assert.equal(await store.appPasswords.add(row(a.id, '0a'), { max: 2 }), 'added');
      assert.equal(await store.appPasswords.add(row(a.id, '0a'), { max: 2 }), 'hint_taken');
      assert.equal(await store.appPasswords.add(row(a.id, '0b'), { max: 2 }), 'added');
      assert.equal(await store.appPasswords.add(row(a.id, '0c'), { max: 2 }), 'limit_reached');
      assert.equal((await store.appPasswords.findLiveByHint(a.id, '0b'))?.passwordHash, '$argon2id$0b');
      assert.equal(await store.appPasswords.findLiveByHint(a.id, '0c'), undefined);
      const other = await account();
      assert.equal(await store.appPasswords.findLiveByHint(other.id, '0a'), undefined, 'hints are per account');
      assert.equal(await store.appPasswords.add(row(other.id, '0a'), { max: 2 }), 'added');
    });

    test('parallel additions never pass the limit', async () => {
      const a = await account();
      const hints = Array.from({ length: 10 }, (_, i) => `1${i}`);
      const results = await Promise.all(hints.map((hint) => store.appPasswords.add(row(a.id, hint), { max: 3 })));
      assert.equal(results.filter((r) => r === 'added').length, 3, results.join(','));
      assert.equal((await store.appPasswords.listLive(a.id)).length, 3);
    });

    test('records the last use; revoking one or all is final and frees the hint', async () => {
      const a = await account();
      const first = row(a.id, '2a', 'Mail');
      await store.appPasswords.add(first, { max: 5 });
      await store.appPasswords.add(row(a.id, '2b', 'Calendar'), { max: 5 });
      await store.appPasswords.markUsed(first.id, later, '203.0.113.9');
      const used = (await store.appPasswords.listLive(a.id)).find((p) => p.id === first.id);
      assert.equal(used?.lastUsedAt?.getTime(), later.getTime());
      assert.equal(used?.lastUsedIp, '203.0.113.9');
      assert.equal(await store.appPasswords.revoke(a.id, first.id, later), 'Mail');
      assert.equal(await store.appPasswords.revoke(a.id, first.id, later), undefined, 'once');
      assert.equal(await store.appPasswords.findLiveByHint(a.id, '2a'), undefined);
      assert.equal(await store.appPasswords.add(row(a.id, '2a'), { max: 5 }), 'added', 'a revoked hint is free again');
      assert.equal(await store.appPasswords.revokeAll(a.id, later), 2);
      assert.equal(await store.appPasswords.revokeAll(a.id, later), 0);
      assert.deepEqual(await store.appPasswords.listLive(a.id), []);
    });

    test("one account cannot revoke another's", async () => {
      const a = await account();
      const b = await account();
      const mine = row(a.id, '3a');
      await store.appPasswords.add(mine, { max: 5 });
      assert.equal(await store.appPasswords.revoke(b.id, mine.id, later), undefined);
      assert.equal((await store.appPasswords.listLive(a.id)).length, 1);
    });
  });
}
