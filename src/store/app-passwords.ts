// App-specific passwords (SPEC §3.13). The limit of live passwords per account and the uniqueness
// of their hints are kept by the store, atomically (DESIGN.md convention 5): `add` locks the
// account's row, so two creations at once cannot both take the 25th place.
import type { Db } from './database.ts';

export interface AppPassword {
  id: string;
  accountId: string;
  label: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  lastUsedIp: string | null;
}

export interface NewAppPassword {
  id: string;
  accountId: string;
  label: string;
  hint: string;
  passwordHash: string;
  createdAt: Date;
}

/** `hint_taken`: a live password of the account has this hint; the caller draws a new password. */
export type AddResult = 'added' | 'limit_reached' | 'hint_taken';

export interface AppPasswordStore {
  /** Adds the password unless the account already has `max` live ones or one with the same hint. */
  add(row: NewAppPassword, limits: { max: number }): Promise<AddResult>;
  listLive(accountId: string): Promise<AppPassword[]>;
  /** The one live password of the account with this hint (hints are unique among live ones). */
  findLiveByHint(accountId: string, hint: string): Promise<{ id: string; passwordHash: string } | undefined>;
  markUsed(id: string, at: Date, ip: string): Promise<void>;
  /** The revoked password's label, or undefined when the account has no such live password. */
  revoke(accountId: string, id: string, at: Date): Promise<string | undefined>;
  /** How many live passwords were revoked. */
  revokeAll(accountId: string, at: Date): Promise<number>;
}

type Row = {
  id: string;
  account_id: string;
  label: string;
  created_at: Date;
  last_used_at: Date | null;
  last_used_ip: string | null;
};

function fromRow(row: Row): AppPassword {
  return {
    id: row.id,
    accountId: row.account_id,
    label: row.label,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    lastUsedIp: row.last_used_ip,
  };
}

export function appPasswordStore(db: Db): AppPasswordStore {
  const live = (accountId: string) =>
    db.selectFrom('app_passwords').where('account_id', '=', accountId).where('revoked_at', 'is', null);
  const add = async (tx: Db, row: NewAppPassword, max: number): Promise<AddResult> => {
    // Serializes creations of one account (PostgreSQL row lock; PGlite has one connection anyway).
    await tx.selectFrom('accounts').select('id').where('id', '=', row.accountId).forUpdate().execute();
    const taken = await tx
      .selectFrom('app_passwords')
      .select('hint')
      .where('account_id', '=', row.accountId)
      .where('revoked_at', 'is', null)
      .execute();
    if (taken.length >= max) return 'limit_reached';
    if (taken.some((t) => t.hint === row.hint)) return 'hint_taken';
    await tx
      .insertInto('app_passwords')
      .values({
        id: row.id,
        account_id: row.accountId,
        label: row.label,
        hint: row.hint,
        password_hash: row.passwordHash,
        created_at: row.createdAt,
        last_used_at: null,
        last_used_ip: null,
        revoked_at: null,
      })
      .execute();
    return 'added';
  };
  return {
    async add(row, { max }) {
      return db.isTransaction ? add(db, row, max) : db.transaction().execute((trx) => add(trx, row, max));
    },
    async listLive(accountId) {
      const rows = await live(accountId)
        .select(['id', 'account_id', 'label', 'created_at', 'last_used_at', 'last_used_ip'])
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(fromRow);
    },
    async findLiveByHint(accountId, hint) {
      const row = await live(accountId).select(['id', 'password_hash']).where('hint', '=', hint).executeTakeFirst();
      return row ? { id: row.id, passwordHash: row.password_hash } : undefined;
    },
    async markUsed(id, at, ip) {
      await db.updateTable('app_passwords').set({ last_used_at: at, last_used_ip: ip }).where('id', '=', id).execute();
    },
    async revoke(accountId, id, at) {
      const row = await db
        .updateTable('app_passwords')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .where('revoked_at', 'is', null)
        .returning('label')
        .executeTakeFirst();
      return row?.label;
    },
    async revokeAll(accountId, at) {
      const result = await db
        .updateTable('app_passwords')
        .set({ revoked_at: at })
        .where('account_id', '=', accountId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}
