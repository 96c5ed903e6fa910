// Security keys (WebAuthn) of staff members, apart from customers' keys (store/security-keys.ts) as
// staff are apart from accounts. The same rules: additions serialized per member so the maximum holds,
// credential ids unique, and the signature counter only moves forward in one conditional UPDATE (a
// cloned key replaying an old counter is refused; keys that keep no counter report 0 and rely on the
// single-use ceremony challenge alone).
import type { Db } from './database.ts';

export interface StaffSecurityKey {
  id: string;
  staffId: string;
  credentialId: string;
  publicKey: string;
  signCount: number;
  transports: string[];
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export type NewStaffSecurityKey = Omit<StaffSecurityKey, 'lastUsedAt'>;
export type AddStaffSecurityKeyResult = 'added' | 'limit_reached' | 'already_registered';

export interface StaffSecurityKeyStore {
  add(key: NewStaffSecurityKey, limits: { max: number }): Promise<AddStaffSecurityKeyResult>;
  /** Live keys of the member, oldest first. */
  listForStaff(staffId: string): Promise<StaffSecurityKey[]>;
  /**
   * Records a use whose counter is `signCount`: true when the key is live and the counter moved
   * forward (or the authenticator keeps no counter: both 0), false otherwise.
   */
  recordUse(id: string, signCount: number, at: Date): Promise<boolean>;
  /** The removed key's name, or undefined when there was no such live key of this member. */
  remove(staffId: string, id: string, at: Date): Promise<string | undefined>;
}

type Row = {
  id: string;
  staff_id: string;
  credential_id: string;
  public_key: string;
  sign_count: number | string;
  transports: string;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
};

function fromRow(row: Row): StaffSecurityKey {
  return {
    id: row.id,
    staffId: row.staff_id,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    signCount: Number(row.sign_count),
    transports: row.transports ? row.transports.split(',') : [],
    name: row.name,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

const COLUMNS = [
  'id',
  'staff_id',
  'credential_id',
  'public_key',
  'sign_count',
  'transports',
  'name',
  'created_at',
  'last_used_at',
] as const;

export function staffSecurityKeyStore(db: Db): StaffSecurityKeyStore {
  const add = async (tx: Db, key: NewStaffSecurityKey, max: number): Promise<AddStaffSecurityKeyResult> => {
    // Serializes registrations of one member (PostgreSQL row lock; PGlite has one connection anyway).
    await tx.selectFrom('staff').select('id').where('id', '=', key.staffId).forUpdate().execute();
    const existing = await tx
      .selectFrom('staff_security_keys')
      .select(['id'])
      .where('credential_id', '=', key.credentialId)
      .executeTakeFirst();
    if (existing) return 'already_registered';
    const count = await tx
      .selectFrom('staff_security_keys')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('staff_id', '=', key.staffId)
      .where('removed_at', 'is', null)
      .executeTakeFirstOrThrow();
    if (Number(count.n) >= max) return 'limit_reached';
    await tx
      .insertInto('staff_security_keys')
      .values({
        id: key.id,
        staff_id: key.staffId,
        credential_id: key.credentialId,
        public_key: key.publicKey,
        sign_count: key.signCount,
        transports: key.transports.join(','),
        name: key.name,
        created_at: key.createdAt,
        last_used_at: null,
        removed_at: null,
      })
      .execute();
    return 'added';
  };
  return {
    async add(key, { max }) {
      return db.isTransaction ? add(db, key, max) : db.transaction().execute((trx) => add(trx, key, max));
    },
    async listForStaff(staffId) {
      const rows = await db
        .selectFrom('staff_security_keys')
        .select(COLUMNS)
        .where('removed_at', 'is', null)
        .where('staff_id', '=', staffId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(fromRow);
    },
    async recordUse(id, signCount, at) {
      const result = await db
        .updateTable('staff_security_keys')
        .set({ sign_count: signCount, last_used_at: at })
        .where('id', '=', id)
        .where('removed_at', 'is', null)
        // WebAuthn §6.1.1: a counter that does not grow means a cloned authenticator, unless the
        // authenticator keeps none (0 then and now).
        .where('sign_count', signCount === 0 ? '=' : '<', signCount)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async remove(staffId, id, at) {
      const row = await db
        .updateTable('staff_security_keys')
        .set({ removed_at: at })
        .where('id', '=', id)
        .where('staff_id', '=', staffId)
        .where('removed_at', 'is', null)
        .returning('name')
        .executeTakeFirst();
      return row?.name;
    },
  };
}
