// Security keys and passkeys (WebAuthn) of customer accounts. Additions are serialized per account so
// the maximum holds under concurrent registrations. The signature counter only moves forward, in one
// conditional UPDATE, so a cloned key replaying an old counter is refused; keys that keep no counter
// (synced passkeys report 0) rely on the single-use ceremony challenge alone (flows/webauthn-ceremony.ts).
// Both rules are key-rules.ts, shared with the staff members' keys.
import type { Db } from './database.ts';
import { type AddKeyResult, addKeyUnderOwnerLock, type KeyTable, recordKeyUse } from './key-rules.ts';

export interface SecurityKey {
  id: string;
  accountId: string;
  credentialId: string;
  publicKey: string;
  signCount: number;
  transports: string[];
  name: string;
  passkey: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export type NewSecurityKey = Omit<SecurityKey, 'lastUsedAt'>;
export type AddSecurityKeyResult = AddKeyResult;

export interface SecurityKeyStore {
  add(key: NewSecurityKey, limits: { max: number }): Promise<AddSecurityKeyResult>;
  /** Live keys of the account, oldest first. */
  listForAccount(accountId: string): Promise<SecurityKey[]>;
  /** A live key by its WebAuthn credential id, whichever account it belongs to. */
  findByCredentialId(credentialId: string): Promise<SecurityKey | undefined>;
  /**
   * Records a use whose counter is `signCount`: true when the key is live and the counter moved
   * forward (or the authenticator keeps no counter: both 0), false otherwise.
   */
  recordUse(id: string, signCount: number, at: Date): Promise<boolean>;
  /** The removed key's name, or undefined when there was no such live key of this account. */
  remove(accountId: string, id: string, at: Date): Promise<string | undefined>;
}

type Row = {
  id: string;
  account_id: string;
  credential_id: string;
  public_key: string;
  sign_count: number | string;
  transports: string;
  name: string;
  passkey: boolean;
  created_at: Date;
  last_used_at: Date | null;
};

function fromRow(row: Row): SecurityKey {
  return {
    id: row.id,
    accountId: row.account_id,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    signCount: Number(row.sign_count),
    transports: row.transports ? row.transports.split(',') : [],
    name: row.name,
    passkey: row.passkey,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

const COLUMNS = [
  'id',
  'account_id',
  'credential_id',
  'public_key',
  'sign_count',
  'transports',
  'name',
  'passkey',
  'created_at',
  'last_used_at',
] as const;

const TABLE: KeyTable = { keys: 'security_keys', owners: 'accounts', ownerColumn: 'account_id' };

export function securityKeyStore(db: Db): SecurityKeyStore {
  const live = () => db.selectFrom('security_keys').select(COLUMNS).where('removed_at', 'is', null);
  return {
    async add(key, { max }) {
      return addKeyUnderOwnerLock(db, TABLE, { ownerId: key.accountId, credentialId: key.credentialId }, max, (tx) =>
        tx
          .insertInto('security_keys')
          .values({
            id: key.id,
            account_id: key.accountId,
            credential_id: key.credentialId,
            public_key: key.publicKey,
            sign_count: key.signCount,
            transports: key.transports.join(','),
            name: key.name,
            passkey: key.passkey,
            created_at: key.createdAt,
            last_used_at: null,
            removed_at: null,
          })
          .execute(),
      );
    },
    async listForAccount(accountId) {
      const rows = await live().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute();
      return rows.map(fromRow);
    },
    async findByCredentialId(credentialId) {
      const row = await live().where('credential_id', '=', credentialId).executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    recordUse: (id, signCount, at) => recordKeyUse(db, TABLE.keys, { id, signCount, at }),
    async remove(accountId, id, at) {
      const row = await db
        .updateTable('security_keys')
        .set({ removed_at: at })
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .where('removed_at', 'is', null)
        .returning('name')
        .executeTakeFirst();
      return row?.name;
    },
  };
}
