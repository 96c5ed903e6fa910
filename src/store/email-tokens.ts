import type { Db } from './database.ts';
import type { EmailTokenPurpose } from './schema.ts';

export interface EmailTokenStore {
  /** Stores a new token's hash and kills the account's older unused tokens of the same purpose. */
  issue(token: {
    tokenHash: string;
    accountId: string;
    purpose: EmailTokenPurpose;
    createdAt: Date;
    expiresAt: Date;
    /** Only for 'change_email': the address the account moves to when the link is followed. */
    newEmail?: string;
  }): Promise<void>;
  /** Single use, atomically: the account id the first time a live token is consumed, undefined ever after. */
  consume(tokenHash: string, purpose: EmailTokenPurpose, at: Date): Promise<string | undefined>;
  /** `consume` for an email change: the account and the address it moves to. */
  consumeEmailChange(tokenHash: string, at: Date): Promise<{ accountId: string; newEmail: string } | undefined>;
  /** Kills the account's unused tokens of one purpose (a pending email change after "This wasn't me"). */
  revokeAll(accountId: string, purpose: EmailTokenPurpose, at: Date): Promise<number>;
}

export function emailTokenStore(db: Db): EmailTokenStore {
  return {
    async issue(token) {
      await db
        .updateTable('email_tokens')
        .set({ used_at: token.createdAt })
        .where('account_id', '=', token.accountId)
        .where('purpose', '=', token.purpose)
        .where('used_at', 'is', null)
        .execute();
      await db
        .insertInto('email_tokens')
        .values({
          token_hash: token.tokenHash,
          account_id: token.accountId,
          purpose: token.purpose,
          created_at: token.createdAt,
          expires_at: token.expiresAt,
          used_at: null,
          new_email: token.newEmail ?? null,
        })
        .execute();
    },
    async consume(tokenHash, purpose, at) {
      const row = await db
        .updateTable('email_tokens')
        .set({ used_at: at })
        .where('token_hash', '=', tokenHash)
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .where('expires_at', '>', at)
        .returning('account_id')
        .executeTakeFirst();
      return row?.account_id;
    },
    async consumeEmailChange(tokenHash, at) {
      const row = await db
        .updateTable('email_tokens')
        .set({ used_at: at })
        .where('token_hash', '=', tokenHash)
        .where('purpose', '=', 'change_email')
        .where('used_at', 'is', null)
        .where('expires_at', '>', at)
        .returning(['account_id', 'new_email'])
        .executeTakeFirst();
      return row?.new_email ? { accountId: row.account_id, newEmail: row.new_email } : undefined;
    },
    async revokeAll(accountId, purpose, at) {
      const result = await db
        .updateTable('email_tokens')
        .set({ used_at: at })
        .where('account_id', '=', accountId)
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}
