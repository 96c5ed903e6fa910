// Browsers that signed in to an account before (SPEC §3.17 "sign-in from a new device/browser"). The
// browser keeps a random marker in a cookie; only its SHA-256 is stored, per account, so one browser
// can be known to several accounts and a copy of the database names no cookie.
import type { Db } from './database.ts';

export interface KnownBrowserStore {
  /** Records a sign-in from this browser, the first or a later one. */
  remember(browser: { accountId: string; browserHash: string; userAgent: string | null }, at: Date): Promise<void>;
  /** Whether the account saw this browser at or after `since`. */
  isKnown(accountId: string, browserHash: string, since: Date): Promise<boolean>;
  /** "This wasn't me": every browser is a stranger again. */
  forgetAll(accountId: string): Promise<number>;
}

export function knownBrowserStore(db: Db): KnownBrowserStore {
  return {
    async remember(browser, at) {
      await db
        .insertInto('known_browsers')
        .values({
          account_id: browser.accountId,
          browser_hash: browser.browserHash,
          created_at: at,
          last_seen_at: at,
          user_agent: browser.userAgent,
        })
        .onConflict((oc) =>
          oc.columns(['account_id', 'browser_hash']).doUpdateSet({ last_seen_at: at, user_agent: browser.userAgent }),
        )
        .execute();
    },
    async isKnown(accountId, browserHash, since) {
      const row = await db
        .selectFrom('known_browsers')
        .select('account_id')
        .where('account_id', '=', accountId)
        .where('browser_hash', '=', browserHash)
        .where('last_seen_at', '>=', since)
        .executeTakeFirst();
      return row !== undefined;
    },
    async forgetAll(accountId) {
      const result = await db.deleteFrom('known_browsers').where('account_id', '=', accountId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
