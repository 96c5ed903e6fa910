// The rules the two security key stores share (customers' keys in security-keys.ts, staff members'
// in staff-security-keys.ts): additions serialized per owner, so a maximum holds under concurrent
// registrations; a credential id registered once, whoever tries; and a signature counter that only
// moves forward, in one conditional UPDATE, so a cloned key replaying an old counter is refused.
import type { Db } from './database.ts';

export type AddKeyResult = 'added' | 'limit_reached' | 'already_registered';

/** Where one kind of key lives: its table, and the table and column of whom it belongs to. */
export type KeyTable =
  | { keys: 'security_keys'; owners: 'accounts'; ownerColumn: 'account_id' }
  | { keys: 'staff_security_keys'; owners: 'staff'; ownerColumn: 'staff_id' };

/**
 * Runs `insert` unless the credential id is known (removed keys included) or the owner already has
 * `max` live keys; in the caller's transaction when there is one, else in a new one.
 */
export async function addKeyUnderOwnerLock(
  db: Db,
  table: KeyTable,
  key: { ownerId: string; credentialId: string },
  max: number,
  insert: (tx: Db) => Promise<unknown>,
): Promise<AddKeyResult> {
  const add = async (tx: Db): Promise<AddKeyResult> => {
    // Serializes registrations of one owner (PostgreSQL row lock; PGlite has one connection anyway).
    await tx.selectFrom(table.owners).select('id').where('id', '=', key.ownerId).forUpdate().execute();
    const existing = await tx
      .selectFrom(table.keys)
      .select(['id'])
      .where('credential_id', '=', key.credentialId)
      .executeTakeFirst();
    if (existing) return 'already_registered';
    const count = await tx
      .selectFrom(table.keys)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where(table.ownerColumn, '=', key.ownerId)
      .where('removed_at', 'is', null)
      .executeTakeFirstOrThrow();
    if (Number(count.n) >= max) return 'limit_reached';
    await insert(tx);
    return 'added';
  };
  return db.isTransaction ? add(db) : db.transaction().execute(add);
}

/**
 * Records a use whose counter is `signCount`: true when the key is live and the counter moved
 * forward (or the authenticator keeps no counter: both 0), false otherwise.
 */
export async function recordKeyUse(
  db: Db,
  keys: KeyTable['keys'],
  use: { id: string; signCount: number; at: Date },
): Promise<boolean> {
  const result = await db
    .updateTable(keys)
    .set({ sign_count: use.signCount, last_used_at: use.at })
    .where('id', '=', use.id)
    .where('removed_at', 'is', null)
    // WebAuthn §6.1.1: a counter that does not grow means a cloned authenticator, unless the
    // authenticator keeps none (0 then and now).
    .where('sign_count', use.signCount === 0 ? '=' : '<', use.signCount)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
