import type { Db } from './database.ts';

export interface Phone {
  id: string;
  accountId: string;
  e164: string;
  country: string | null;
  createdAt: Date;
  verifiedAt: Date | null;
}

export interface PhoneStore {
  /** False when the account already has this number. */
  add(phone: Omit<Phone, 'verifiedAt'>): Promise<boolean>;
  find(id: string): Promise<Phone | undefined>;
  listForAccount(accountId: string): Promise<Phone[]>;
  markVerified(accountId: string, id: string, at: Date): Promise<boolean>;
  remove(accountId: string, id: string, at: Date): Promise<boolean>;
}

type Row = {
  id: string;
  account_id: string;
  e164: string;
  country: string | null;
  created_at: Date;
  verified_at: Date | null;
};

function fromRow(row: Row): Phone {
  return {
    id: row.id,
    accountId: row.account_id,
    e164: row.e164,
    country: row.country,
    createdAt: row.created_at,
    verifiedAt: row.verified_at,
  };
}

export function phoneStore(db: Db): PhoneStore {
  const live = () => db.selectFrom('phones').selectAll().where('removed_at', 'is', null);
  return {
    async add(phone) {
      const row = await db
        .insertInto('phones')
        .values({
          id: phone.id,
          account_id: phone.accountId,
          e164: phone.e164,
          country: phone.country,
          created_at: phone.createdAt,
          verified_at: null,
          removed_at: null,
        })
        .onConflict((oc) => oc.columns(['account_id', 'e164']).where('removed_at', 'is', null).doNothing())
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },
    async find(id) {
      const row = await live().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async listForAccount(accountId) {
      return (await live().where('account_id', '=', accountId).orderBy('created_at').execute()).map(fromRow);
    },
    async markVerified(accountId, id, at) {
      const result = await db
        .updateTable('phones')
        .set({ verified_at: at })
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .where('removed_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async remove(accountId, id, at) {
      const result = await db
        .updateTable('phones')
        .set({ removed_at: at })
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .where('removed_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}
