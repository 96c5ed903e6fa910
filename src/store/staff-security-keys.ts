// Security keys (WebAuthn) of staff members, apart from customers' keys (store/security-keys.ts) as
// staff are apart from accounts. The same rules: additions serialized per member so the maximum holds,
// credential ids unique, and the signature counter only moves forward in one conditional UPDATE (a
// cloned key replaying an old counter is refused; keys that keep no counter report 0 and rely on the
// single-use ceremony challenge alone), from key-rules.ts.
import type { Db } from './database.ts';
import { type AddKeyResult, addKeyUnderOwnerLock, type KeyTable, recordKeyUse } from './key-rules.ts';

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
export type AddStaffSecurityKeyResult = AddKeyResult;

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

const TABLE: KeyTable = { keys: 'staff_security_keys', owners: 'staff', ownerColumn: 'staff_id' };

export function staffSecurityKeyStore(db: Db): StaffSecurityKeyStore {
  return {
    async add(key, { max }) {
      return addKeyUnderOwnerLock(db, TABLE, { ownerId: key.staffId, credentialId: key.credentialId }, max, (tx) =>
        tx
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
          .execute(),
      );
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
    recordUse: (id, signCount, at) => recordKeyUse(db, TABLE.keys, { id, signCount, at }),
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
