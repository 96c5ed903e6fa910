// One conformance suite for every database backend (DESIGN.md convention 5): the same domain verbs
// must behave the same on the embedded PGlite and on a PostgreSQL server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type Account, newAccountRow } from '../../src/store/accounts.ts';
import { createStore, type Store } from '../../src/store/index.ts';
import { databaseBackends, openTestDatabase, type TestDatabase } from '../helpers/backends.ts';

const at = new Date('2026-03-01T10:00:00Z');
const later = new Date('2026-03-01T11:00:00Z');

function newAccount(overrides: Partial<Account> = {}): Account {
  const profile = {
    id: randomUUID(),
    email: `${randomUUID()}@example.com`,
    password_hash: '$argon2id$placeholder',
    name: 'Store Test',
    birth_date: '1990-01-01',
    country: 'NL',
    locale: 'en',
  };
  return { ...newAccountRow(profile, at), ...overrides };
}

function session(accountId: string, id = randomUUID()) {
  return {
    id,
    account_id: accountId,
    secret_hash: 'hash',
    assurance: 'password' as const,
    created_at: at,
    last_seen_at: at,
    verified_at: at,
    revoked_at: null,
    ip: '127.0.0.1',
    user_agent: 'test',
  };
}

for (const backend of databaseBackends()) {
  describe(`store on ${backend}`, () => {
    let database: TestDatabase;
    let store: Store;
    before(async () => {
      database = await openTestDatabase(backend);
      store = createStore(database.db);
    });
    after(() => database.close());

    test('an email has at most one account', async () => {
      const first = newAccount();
      assert.equal(await store.accounts.create(first), true);
      assert.equal(await store.accounts.create(newAccount({ email: first.email })), false);
      const found = await store.accounts.findByEmail(first.email);
      assert.equal(found?.id, first.id);
      assert.ok(found?.created_at instanceof Date, 'times come back as Date');
      assert.equal(found?.created_at.getTime(), at.getTime());
    });

    test('account changes are stored', async () => {
      const account = newAccount();
      await store.accounts.create(account);
      await store.accounts.markEmailVerified(account.id, later);
      await store.accounts.rename(account.id, 'New Name', later);
      await store.accounts.changePassword(account.id, '$argon2id$new', later);
      await store.accounts.setLocale(account.id, 'nl', later);
      const found = await store.accounts.findById(account.id);
      assert.equal(found?.email_verified_at?.getTime(), later.getTime());
      assert.equal(found?.name, 'New Name');
      assert.equal(found?.password_hash, '$argon2id$new');
      assert.equal(found?.password_changed_at?.getTime(), later.getTime());
      assert.equal(found?.locale, 'nl');
      await store.accounts.upgradePasswordHash(account.id, '$argon2id$stronger');
      const upgraded = await store.accounts.findById(account.id);
      assert.equal(upgraded?.password_hash, '$argon2id$stronger');
      assert.equal(upgraded?.password_changed_at?.getTime(), later.getTime(), 'a rehash is not a password change');
    });

    test("an account's row lock: 10 read-then-write transactions under it lose no write", async () => {
      const account = newAccount({ name: '0' });
      await store.accounts.create(account);
      await Promise.all(
        Array.from({ length: 10 }, () =>
          store.transaction(async (tx) => {
            const row = await tx.accounts.lockForUpdate(account.id);
            await tx.accounts.rename(account.id, String(Number(row?.name) + 1), later);
          }),
        ),
      );
      assert.equal((await store.accounts.findById(account.id))?.name, '10');
      assert.equal(await store.transaction((tx) => tx.accounts.lockForUpdate(randomUUID())), undefined);
    });

    test('sessions: revoke one, revoke all but one, list only live ones', async () => {
      const account = newAccount();
      await store.accounts.create(account);
      const [a, b, c] = [session(account.id), session(account.id), session(account.id)];
      for (const s of [a, b, c]) await store.sessions.create(s);
      assert.equal(await store.sessions.revoke(account.id, a.id, later), true);
      assert.equal(await store.sessions.revoke(account.id, a.id, later), false, 'revoking twice does nothing');
      assert.equal(await store.sessions.findActive(a.id), undefined);
      const stranger = newAccount();
      await store.accounts.create(stranger);
      assert.equal(
        await store.sessions.revoke(stranger.id, b.id, later),
        false,
        "an account cannot revoke another account's session",
      );
      assert.equal(await store.sessions.revokeAll(account.id, later, { keepId: c.id }), 1);
      assert.deepEqual(
        (await store.sessions.listActive(account.id)).map((s) => s.id),
        [c.id],
      );
      await store.sessions.touch(c.id, later);
      assert.equal((await store.sessions.findActive(c.id))?.last_seen_at.getTime(), later.getTime());
    });

    test('a live session comes with its own account, whole; a revoked one with nothing', async () => {
      const account = newAccount({ locale: 'nl', two_step_enabled_at: later });
      const other = newAccount();
      await store.accounts.create(account);
      await store.accounts.create(other);
      const mine = { ...session(account.id), assurance: 'two-step' as const, verified_at: later, ip: null };
      await store.sessions.create(mine);
      await store.sessions.create(session(other.id));
      const found = await store.sessions.findActiveWithAccount(mine.id);
      assert.deepEqual(found?.session, mine, 'every column of the session, none taken from the account');
      assert.deepEqual(found?.account, await store.accounts.findById(account.id));
      await store.sessions.revoke(account.id, mine.id, later);
      assert.equal(await store.sessions.findActiveWithAccount(mine.id), undefined);
      assert.equal(await store.sessions.findActiveWithAccount(randomUUID()), undefined);
    });

    test("the account's trusted devices and verified phones, oldest first, in one list each", async () => {
      const account = newAccount();
      await store.accounts.create(account);
      const minute = (n: number) => new Date(at.getTime() + n * 60_000);
      const key = { kty: 'EC' as const, crv: 'P-256' as const, x: 'x', y: 'y' };
      const device = (name: string, createdAt: Date) => ({
        id: randomUUID(),
        accountId: account.id,
        name,
        model: 'Pixel',
        publicKey: key,
        credentialHash: randomUUID(),
        createdAt,
      });
      const [newer, older, untrusted, removed] = [
        device('Newer', minute(3)),
        device('Older', minute(1)),
        device('Untrusted', minute(0)),
        device('Removed', minute(2)),
      ];
      for (const d of [newer, older, untrusted, removed]) await store.devices.register(d);
      for (const d of [newer, older, removed]) await store.devices.markTrusted(account.id, d.id, later);
      await store.devices.remove(account.id, removed.id, later);
      const phone = (e164: string, createdAt: Date) => ({
        id: randomUUID(),
        accountId: account.id,
        e164,
        country: 'NL',
        createdAt,
      });
      const [late, early, unverified] = [
        phone('+31612345672', minute(2)),
        phone('+31612345671', minute(0.5)),
        phone('+31612345673', minute(0)),
      ];
      for (const p of [late, early, unverified]) await store.phones.add(p);
      for (const p of [late, early]) await store.phones.markVerified(account.id, p.id, later);
      const stranger = newAccount();
      await store.accounts.create(stranger);
      await store.devices.register({ ...device('Theirs', minute(0)), accountId: stranger.id });

      assert.deepEqual(await store.secondFactors.trustedOf(account.id), {
        devices: [
          { id: older.id, name: 'Older' },
          { id: newer.id, name: 'Newer' },
        ],
        phones: [
          { id: early.id, e164: '+31612345671' },
          { id: late.id, e164: '+31612345672' },
        ],
      });
      assert.deepEqual(await store.secondFactors.trustedOf(randomUUID()), { devices: [], phones: [] });
    });

    test('phones SMS can reach: verified, live, in a country whose rollout allows SMS', async () => {
      const account = newAccount();
      await store.accounts.create(account);
      await store.rollout.set([{ country: 'DE', twoStep: true, sms: false, wave: null }], at);
      const phone = (e164: string, country: string | null, minutes: number) => ({
        id: randomUUID(),
        accountId: account.id,
        e164,
        country,
        createdAt: new Date(at.getTime() + minutes * 60_000),
      });
      const dutch = phone('+31612345601', 'NL', 2);
      const unknownCountry = phone('+31612345602', null, 1);
      const german = phone('+4915112345603', 'DE', 0);
      const unverified = phone('+31612345604', 'NL', 0);
      const removed = phone('+31612345605', 'NL', 0);
      for (const p of [dutch, unknownCountry, german, unverified, removed]) await store.phones.add(p);
      for (const p of [dutch, unknownCountry, german, removed])
        await store.phones.markVerified(account.id, p.id, later);
      await store.phones.remove(account.id, removed.id, later);
      assert.deepEqual(
        (await store.secondFactors.channelRowsOf(account.id)).filter((r) => r.kind === 'sms').map((r) => r.id),
        [unknownCountry.id, dutch.id],
        'NL was never set (SMS by default) and a phone without a country gets the default too; DE has SMS off',
      );
    });

    test('email tokens are single use, expire, and a new one kills the old', async () => {
      const account = newAccount();
      await store.accounts.create(account);
      const expiresAt = new Date(at.getTime() + 3_600_000);
      await store.emailTokens.issue({
        tokenHash: `old-${account.id}`,
        accountId: account.id,
        purpose: 'verify_email',
        createdAt: at,
        expiresAt,
      });
      await store.emailTokens.issue({
        tokenHash: `new-${account.id}`,
        accountId: account.id,
        purpose: 'verify_email',
        createdAt: at,
        expiresAt,
      });
      assert.equal(
        await store.emailTokens.consume(`old-${account.id}`, 'verify_email', at),
        undefined,
        'the older token died',
      );
      assert.equal(
        await store.emailTokens.consume(`new-${account.id}`, 'verify_email', new Date(expiresAt.getTime() + 1)),
        undefined,
        'expired',
      );
      assert.equal(await store.emailTokens.consume(`new-${account.id}`, 'verify_email', at), account.id);
      assert.equal(await store.emailTokens.consume(`new-${account.id}`, 'verify_email', at), undefined, 'used');
    });

    test('50 concurrent uses of one token: exactly one succeeds', async () => {
      const account = newAccount();
      await store.accounts.create(account);
      await store.emailTokens.issue({
        tokenHash: `race-${account.id}`,
        accountId: account.id,
        purpose: 'verify_email',
        createdAt: at,
        expiresAt: later,
      });
      const results = await Promise.all(
        Array.from({ length: 50 }, () => store.emailTokens.consume(`race-${account.id}`, 'verify_email', at)),
      );
      assert.equal(results.filter((r) => r === account.id).length, 1);
    });

    test('a change and its audit event commit together or not at all', async () => {
      const account = newAccount();
      await store.accounts.create(account);
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.accounts.rename(account.id, 'Half Written', later);
          await tx.audit.record({
            accountId: account.id,
            actor: 'system',
            event: 'account.renamed',
            at: later,
            ip: null,
            userAgent: null,
          });
          throw new Error('crash after both writes');
        }),
      );
      assert.equal((await store.accounts.findById(account.id))?.name, 'Store Test');
      assert.deepEqual(await store.audit.listForAccount(account.id, { limit: 10 }), []);
    });

    test('audit events: newest first, paged, immutable', async () => {
      const account = newAccount();
      await store.accounts.create(account);
      for (const event of ['account.created', 'session.created', 'account.renamed']) {
        await store.audit.record({
          accountId: account.id,
          actor: `account:${account.id}`,
          event,
          at,
          ip: '10.0.0.1',
          userAgent: 'ua',
          details: { n: event.length },
        });
      }
      const events = await store.audit.listForAccount(account.id, { limit: 2 });
      assert.deepEqual(
        events.map((e) => e.event),
        ['account.renamed', 'session.created'],
      );
      assert.deepEqual(events[0]?.details, { n: 15 });
      const older = await store.audit.listForAccount(account.id, { limit: 2, beforeId: events[1]?.id as string });
      assert.deepEqual(
        older.map((e) => e.event),
        ['account.created'],
      );
      await assert.rejects(
        database.db.updateTable('audit_events').set({ event: 'forged' }).where('account_id', '=', account.id).execute(),
        /immutable/,
      );
      await assert.rejects(
        database.db.deleteFrom('audit_events').where('account_id', '=', account.id).execute(),
        /immutable/,
      );
    });

    test('the outbox lists newest first and filters by recipient', async () => {
      const to = `${randomUUID()}@example.com`;
      await store.outbox.add({ to, channel: 'email', subject: 'one', body: 'b1', links: ['http://x/1'], at });
      await store.outbox.add({ to, channel: 'sms', body: 'b2', links: [], code: '123456', at: later });
      const list = await store.outbox.list({ limit: 10, to });
      assert.deepEqual(
        list.map((m) => m.body),
        ['b2', 'b1'],
      );
      assert.equal(list[0]?.code, '123456');
      assert.equal(list[0]?.subject, undefined);
      assert.deepEqual(list[1]?.links, ['http://x/1']);
    });

    test('migrations are idempotent', async () => {
      const { migrateToLatest } = await import('../../src/store/database.ts');
      assert.deepEqual(await migrateToLatest(database.db), []);
    });
  });
}
