// The "This wasn't me" links of security emails (SPEC §3.17). Each email gets its own token, so the
// link in an older email keeps working when newer ones arrive; only a SHA-256 of the token is stored.
import type { Db } from './database.ts';

export interface NotMeToken {
  accountId: string;
  notice: string;
  restoreEmail: string | null;
}

export interface NotMeTokenStore {
  issue(token: {
    tokenHash: string;
    accountId: string;
    notice: string;
    restoreEmail?: string | undefined;
    createdAt: Date;
    expiresAt: Date;
  }): Promise<void>;
  /** The live (unused, unexpired) token, without using it: the page shows what a report will do. */
  findLive(tokenHash: string, at: Date): Promise<NotMeToken | undefined>;
  /** Single use, atomically: the token the first time a live one is consumed, undefined ever after. */
  consume(tokenHash: string, at: Date): Promise<NotMeToken | undefined>;
  /** After a report the other links of the account have done their job: they stop working. */
  useAll(accountId: string, at: Date): Promise<number>;
}

function fromRow(row: { account_id: string; notice: string; restore_email: string | null }): NotMeToken {
  return { accountId: row.account_id, notice: row.notice, restoreEmail: row.restore_email };
}

export function notMeTokenStore(db: Db): NotMeTokenStore {
  return {
    async issue(token) {
      await db
        .insertInto('not_me_tokens')
        .values({
          token_hash: token.tokenHash,
          account_id: token.accountId,
          notice: token.notice,
          restore_email: token.restoreEmail ?? null,
          created_at: token.createdAt,
          expires_at: token.expiresAt,
          used_at: null,
        })
        .execute();
    },
    async findLive(tokenHash, at) {
      const row = await db
        .selectFrom('not_me_tokens')
        .select(['account_id', 'notice', 'restore_email'])
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', at)
        .executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async consume(tokenHash, at) {
      const row = await db
        .updateTable('not_me_tokens')
        .set({ used_at: at })
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', at)
        .returning(['account_id', 'notice', 'restore_email'])
        .executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async useAll(accountId, at) {
      const result = await db
        .updateTable('not_me_tokens')
        .set({ used_at: at })
        .where('account_id', '=', accountId)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}
