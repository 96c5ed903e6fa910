// Security keys and passkeys (WebAuthn) of customer accounts. Additions are serialized per account so
// the maximum holds under concurrent registrations. The signature counter only moves forward, in one
// conditional UPDATE, so a cloned key replaying an old counter is refused; keys that keep no counter
// (synced passkeys report 0) rely on the single-use ceremony challenge alone (flows/webauthn-ceremony.ts).
import type { Db } from './database.ts';

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
export type AddSecurityKeyResult = 'added' | 'limit_reached' | 'already_registered';

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

export function securityKeyStore(db: Db): SecurityKeyStore {
  const live = () => db.selectFrom('security_keys').select(COLUMNS).where('removed_at', 'is', null);
  const add = async (tx: Db, key: NewSecurityKey, max: number): Promise<AddSecurityKeyResult> => {
    // Serializes registrations of one account (PostgreSQL row lock; PGlite has one connection anyway).
    await tx.selectFrom('accounts').select('id').where('id', '=', key.accountId).forUpdate().execute();
    const existing = await tx
      .selectFrom('security_keys')
      .select(['id'])
      .where('credential_id', '=', key.credentialId)
      .executeTakeFirst();
    if (existing) return 'already_registered';
    const count = await tx
      .selectFrom('security_keys')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('account_id', '=', key.accountId)
      .where('removed_at', 'is', null)
      .executeTakeFirstOrThrow();
    if (Number(count.n) >= max) return 'limit_reached';
    await tx
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
      .execute();
    return 'added';
  };
  return {
    async add(key, { max }) {
      return db.isTransaction ? add(db, key, max) : db.transaction().execute((trx) => add(trx, key, max));
    },
    async listForAccount(accountId) {
      const rows = await live().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute();
      return rows.map(fromRow);
    },
    async findByCredentialId(credentialId) {
      const row = await live().where('credential_id', '=', credentialId).executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async recordUse(id, signCount, at) {
      const result = await db
        .updateTable('security_keys')
        .set({ sign_count: signCount, last_used_at: at })
        .where('id', '=', id)
        .where('removed_at', 'is', null)
        // WebAuthn §6.1.1: a counter that does not grow means a cloned authenticator, unless the
        // authenticator keeps none (0 then and now).
        .where('sign_count', signCount === 0 ? '=' : '<', signCount)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
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
