// The staff security key store (DESIGN.md convention 5) on every database backend: credential ids are
// unique, the maximum holds under concurrent registrations, the signature counter only moves forward
// (a cloned key's replayed counter is refused; keys without a counter report 0), and removal is final.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createStore, type Store } from '../../src/store/index.ts';
import type { NewStaffSecurityKey } from '../../src/store/staff-security-keys.ts';
import { databaseBackends, openTestDatabase, type TestDatabase } from '../helpers/backends.ts';

const at = new Date('2026-03-01T10:00:00Z');
const later = new Date('2026-03-01T11:00:00Z');

for (const backend of databaseBackends()) {
  describe(`staff security key store on ${backend}`, () => {
    let database: TestDatabase;
    let store: Store;
    before(async () => {
      database = await openTestDatabase(backend);
      store = createStore(database.db);
    });
    after(() => database.close());

    async function newMember(): Promise<string> {
      const id = randomUUID();
      assert.ok(
        await store.staff.create({
          id,
          email: `${id}@staff.example.com`,
          name: 'Store Test',
          role: 'support',
          password_hash: '$argon2id$placeholder',
          totp_secret_sealed: null,
          totp_confirmed_at: null,
          created_at: at,
          created_by: 'operator:cli',
          disabled_at: null,
        }),
      );
      return id;
    }

    function key(staffId: string, overrides: Partial<NewStaffSecurityKey> = {}): NewStaffSecurityKey {
      return {
        id: randomUUID(),
        staffId,
        credentialId: randomUUID(),
        publicKey: 'pQECAyYgASFY',
        signCount: 0,
        transports: ['usb', 'nfc'],
        name: 'Key',
        createdAt: at,
        ...overrides,
      };
    }

    test('a credential id is registered once, whichever member tries; each member sees only their own', async () => {
      const [ada, bob] = [await newMember(), await newMember()];
      const first = key(ada);
      assert.equal(await store.staffSecurityKeys.add(first, { max: 5 }), 'added');
      assert.equal(
        await store.staffSecurityKeys.add(key(bob, { credentialId: first.credentialId }), { max: 5 }),
        'already_registered',
      );
      const [listed] = await store.staffSecurityKeys.listForStaff(ada);
      assert.deepEqual(listed?.transports, ['usb', 'nfc']);
      assert.equal(listed?.lastUsedAt, null);
      assert.deepEqual(await store.staffSecurityKeys.listForStaff(bob), []);
    });

    test('10 concurrent registrations against a maximum of 3: exactly 3 are added', async () => {
      const staffId = await newMember();
      const results = await Promise.all(
        Array.from({ length: 10 }, () => store.staffSecurityKeys.add(key(staffId), { max: 3 })),
      );
      assert.equal(results.filter((r) => r === 'added').length, 3);
      assert.equal((await store.staffSecurityKeys.listForStaff(staffId)).length, 3);
    });

    test('the counter only moves forward; a key that keeps none (0) may stay at 0', async () => {
      const staffId = await newMember();
      const counting = key(staffId, { signCount: 5 });
      await store.staffSecurityKeys.add(counting, { max: 5 });
      assert.equal(await store.staffSecurityKeys.recordUse(counting.id, 6, later), true);
      assert.equal(await store.staffSecurityKeys.recordUse(counting.id, 6, later), false, 'the same counter');
      assert.equal(await store.staffSecurityKeys.recordUse(counting.id, 3, later), false, 'a lower counter');
      const [stored] = await store.staffSecurityKeys.listForStaff(staffId);
      assert.equal(stored?.signCount, 6);
      assert.deepEqual(stored?.lastUsedAt, later);
      const noCounter = key(staffId);
      await store.staffSecurityKeys.add(noCounter, { max: 5 });
      assert.equal(await store.staffSecurityKeys.recordUse(noCounter.id, 0, later), true);
      assert.equal(await store.staffSecurityKeys.recordUse(noCounter.id, 0, later), true);
    });

    test('removal is by the owner only and final: a removed key records no use', async () => {
      const [ada, bob] = [await newMember(), await newMember()];
      const adas = key(ada, { name: 'Desk key' });
      await store.staffSecurityKeys.add(adas, { max: 5 });
      assert.equal(await store.staffSecurityKeys.remove(bob, adas.id, later), undefined, 'another member');
      assert.equal(await store.staffSecurityKeys.remove(ada, adas.id, later), 'Desk key');
      assert.equal(await store.staffSecurityKeys.remove(ada, adas.id, later), undefined, 'twice');
      assert.deepEqual(await store.staffSecurityKeys.listForStaff(ada), []);
      assert.equal(await store.staffSecurityKeys.recordUse(adas.id, 1, later), false);
    });
  });
}
