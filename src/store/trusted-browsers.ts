import type { Db } from './database.ts';

export interface TrustedBrowserStore {
  add(browser: {
    id: string;
    accountId: string;
    secretHash: string;
    createdAt: Date;
    expiresAt: Date;
    userAgent: string | null;
  }): Promise<void>;
  /** The secret hash of a live trusted browser of this account. */
  find(accountId: string, id: string, at: Date): Promise<{ secretHash: string } | undefined>;
  /** A password change or reset forgets every trusted browser (SPEC §4). */
  forgetAll(accountId: string): Promise<number>;
}

export function trustedBrowserStore(db: Db): TrustedBrowserStore {
  return {
    async add(browser) {
      await db
        .insertInto('trusted_browsers')
        .values({
          id: browser.id,
          account_id: browser.accountId,
          secret_hash: browser.secretHash,
          created_at: browser.createdAt,
          expires_at: browser.expiresAt,
          user_agent: browser.userAgent,
        })
        .execute();
    },
    async find(accountId, id, at) {
      const row = await db
        .selectFrom('trusted_browsers')
        .select('secret_hash')
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .where('expires_at', '>', at)
        .executeTakeFirst();
      return row ? { secretHash: row.secret_hash } : undefined;
    },
    async forgetAll(accountId) {
      const result = await db.deleteFrom('trusted_browsers').where('account_id', '=', accountId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
