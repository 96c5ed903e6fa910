// The store verbs behind email changes, known browsers and "This wasn't me" (DESIGN.md convention 5):
// the same behaviour on the embedded PGlite and on a PostgreSQL server; single use is atomic.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type Account, newAccountRow } from '../../src/store/accounts.ts';
import { createStore, type Store } from '../../src/store/index.ts';
import { databaseBackends, openTestDatabase, type TestDatabase } from '../helpers/backends.ts';

const at = new Date('2026-03-01T10:00:00Z');
const later = new Date('2026-03-01T11:00:00Z');
const muchLater = new Date('2026-04-01T10:00:00Z');

function newAccount(): Account {
  return newAccountRow(
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
}

for (const backend of databaseBackends()) {
  describe(`account-change stores on ${backend}`, () => {
    let database: TestDatabase;
    let store: Store;
    before(async () => {
      database = await openTestDatabase(backend);
      store = createStore(database.db);
    });
    after(() => database.close());

    async function account(): Promise<Account> {
      const row = newAccount();
      assert.ok(await store.accounts.create(row));
      return row;
    }

    test('an email change token carries its address, is single use, and a newer one kills it', async () => {
      const a = await account();
      const issue = (hash: string, newEmail: string) =>
        store.emailTokens.issue({
          tokenHash: hash,
          accountId: a.id,
          purpose: 'change_email',
          createdAt: at,
          expiresAt: later,
          newEmail,
        });
      await issue('h1', 'one@example.com');
      await issue('h2', 'two@example.com');
      assert.equal(await store.emailTokens.consumeEmailChange('h1', at), undefined, 'the older one died');
      assert.equal(await store.emailTokens.consume('h2', 'verify_email', at), undefined, 'only for its purpose');
      assert.deepEqual(await store.emailTokens.consumeEmailChange('h2', at), {
        accountId: a.id,
        newEmail: 'two@example.com',
      });
      assert.equal(await store.emailTokens.consumeEmailChange('h2', at), undefined);
      await issue('h3', 'three@example.com');
      assert.equal(await store.emailTokens.revokeAll(a.id, 'change_email', at), 1);
      assert.equal(await store.emailTokens.consumeEmailChange('h3', at), undefined);
    });

    test('an account moves to a new address only if no other account has it', async () => {
      const a = await account();
      const b = await account();
      assert.equal(await store.accounts.changeEmail(a.id, b.email, later), false);
      const fresh = `${randomUUID()}@example.com`;
      assert.equal(await store.accounts.changeEmail(a.id, fresh, later), true);
      const moved = await store.accounts.findById(a.id);
      assert.equal(moved?.email, fresh);
      assert.equal(moved?.email_verified_at?.getTime(), later.getTime());
      await store.accounts.setBirthDate(a.id, '1980-02-03', later);
      await store.accounts.setCountry(a.id, 'BE', later);
      const profile = await store.accounts.findById(a.id);
      assert.equal(profile?.birth_date, '1980-02-03');
      assert.equal(profile?.country, 'BE');
    });

    test('known browsers: per account, since a time, forgotten all at once', async () => {
      const a = await account();
      const b = await account();
      assert.equal(await store.knownBrowsers.isKnown(a.id, 'browser', at), false);
      await store.knownBrowsers.remember({ accountId: a.id, browserHash: 'browser', userAgent: 'x' }, at);
      await store.knownBrowsers.remember({ accountId: a.id, browserHash: 'browser', userAgent: 'y' }, later);
      assert.equal(await store.knownBrowsers.isKnown(a.id, 'browser', later), true, 'seen again: renewed');
      assert.equal(await store.knownBrowsers.isKnown(a.id, 'browser', muchLater), false, 'not seen since');
      assert.equal(await store.knownBrowsers.isKnown(b.id, 'browser', at), false);
      await store.knownBrowsers.remember({ accountId: b.id, browserHash: 'browser', userAgent: null }, at);
      assert.equal(await store.knownBrowsers.forgetAll(a.id), 1);
      assert.equal(await store.knownBrowsers.isKnown(a.id, 'browser', at), false);
      assert.equal(await store.knownBrowsers.isKnown(b.id, 'browser', at), true);
    });

    test('"this wasn\'t me" tokens: looked at without use, used once even when raced, expire', async () => {
      const a = await account();
      await store.notMeTokens.issue({
        tokenHash: 'n1',
        accountId: a.id,
        notice: 'newSignIn',
        createdAt: at,
        expiresAt: later,
      });
      await store.notMeTokens.issue({
        tokenHash: 'n2',
        accountId: a.id,
        notice: 'emailChanged',
        restoreEmail: 'old@example.com',
        createdAt: at,
        expiresAt: later,
      });
      assert.deepEqual(await store.notMeTokens.findLive('n2', at), {
        accountId: a.id,
        notice: 'emailChanged',
        restoreEmail: 'old@example.com',
      });
      assert.equal(await store.notMeTokens.findLive('n1', later), undefined, 'expired');
      const results = await Promise.all(Array.from({ length: 20 }, () => store.notMeTokens.consume('n2', at)));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await store.notMeTokens.useAll(a.id, at), 1);
      assert.equal(await store.notMeTokens.consume('n1', at), undefined);
    });

    test('open challenges of an account are cancelled together; others stay', async () => {
      const a = await account();
      const b = await account();
      const challenge = (id: string, accountId: string, expiresAt = later) =>
        store.challenges.create({
          id,
          accountId,
          purpose: 'sign_in',
          subject: null,
          codeHash: null,
          codeSentAt: null,
          createdAt: at,
          expiresAt,
          maxAttempts: 5,
          context: {},
        });
      const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()] as const;
      await challenge(ids[0], a.id);
      await challenge(ids[1], a.id);
      await challenge(ids[2], b.id);
      await challenge(ids[3], a.id, at);
      assert.ok(await store.challenges.cancel(ids[1], at));
      assert.deepEqual(await store.challenges.cancelOpen(a.id, at), [ids[0]]);
      assert.ok((await store.challenges.find(ids[0]))?.cancelledAt);
      assert.equal((await store.challenges.find(ids[2]))?.cancelledAt, null);
    });
  });
}
