import type { Db } from './database.ts';

/** An authenticator app (TOTP) of an account; `secretSealed` is AES-256-GCM sealed (flows/authenticators.ts). */
export interface Authenticator {
  id: string;
  accountId: string;
  label: string;
  secretSealed: string;
  createdAt: Date;
  confirmedAt: Date | null;
}

export interface AuthenticatorStore {
  add(authenticator: Omit<Authenticator, 'confirmedAt'>): Promise<void>;
  find(accountId: string, id: string): Promise<Authenticator | undefined>;
  /** Live ones, confirmed or not, oldest first. */
  listForAccount(accountId: string): Promise<Authenticator[]>;
  /**
   * Records `step` as the last accepted one if it is later than the last; true for exactly one of
   * concurrent claims of a step, false for that step or any earlier one afterwards.
   */
  claimStep(id: string, step: number): Promise<boolean>;
  /** False when it is missing, removed or already confirmed. */
  markConfirmed(accountId: string, id: string, at: Date): Promise<boolean>;
  remove(accountId: string, id: string, at: Date): Promise<boolean>;
}

type Row = {
  id: string;
  account_id: string;
  label: string;
  secret_sealed: string;
  created_at: Date;
  confirmed_at: Date | null;
};

function fromRow(row: Row): Authenticator {
  return {
    id: row.id,
    accountId: row.account_id,
    label: row.label,
    secretSealed: row.secret_sealed,
    createdAt: row.created_at,
    confirmedAt: row.confirmed_at,
  };
}

export function authenticatorStore(db: Db): AuthenticatorStore {
  const live = () => db.selectFrom('authenticators').selectAll().where('removed_at', 'is', null);
  return {
    async add(a) {
      await db
        .insertInto('authenticators')
        .values({
          id: a.id,
          account_id: a.accountId,
          label: a.label,
          secret_sealed: a.secretSealed,
          created_at: a.createdAt,
          confirmed_at: null,
          last_step: null,
          removed_at: null,
        })
        .execute();
    },
    async find(accountId, id) {
      const row = await live().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async listForAccount(accountId) {
      return (await live().where('account_id', '=', accountId).orderBy('created_at').execute()).map(fromRow);
    },
    async claimStep(id, step) {
      const result = await db
        .updateTable('authenticators')
        .set({ last_step: step })
        .where('id', '=', id)
        .where('removed_at', 'is', null)
        .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async markConfirmed(accountId, id, at) {
      const result = await db
        .updateTable('authenticators')
        .set({ confirmed_at: at })
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .where('removed_at', 'is', null)
        .where('confirmed_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async remove(accountId, id, at) {
      const result = await db
        .updateTable('authenticators')
        .set({ removed_at: at })
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .where('removed_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}
