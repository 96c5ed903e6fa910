import type { Db } from './database.ts';
import type { SessionsTable } from './schema.ts';

export type SessionRow = SessionsTable;

export interface SessionStore {
  create(session: SessionRow): Promise<void>;
  /** The session if it exists and was not revoked; expiry is judged by the caller's policy. */
  findActive(id: string): Promise<SessionRow | undefined>;
  touch(id: string, at: Date): Promise<void>;
  /** A completed two-step verification: the session is two-step as of `at`. */
  markTwoStepVerified(id: string, at: Date): Promise<void>;
  /** Revokes one session of this account; false if there was none to revoke. */
  revoke(accountId: string, id: string, at: Date): Promise<boolean>;
  /** Revokes every session of the account except `keepId`; returns how many. */
  revokeAll(accountId: string, at: Date, options?: { keepId?: string }): Promise<number>;
  listActive(accountId: string): Promise<SessionRow[]>;
}

export function sessionStore(db: Db): SessionStore {
  return {
    async create(session) {
      await db.insertInto('sessions').values(session).execute();
    },
    findActive: (id) =>
      db.selectFrom('sessions').selectAll().where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst(),
    async touch(id, at) {
      await db.updateTable('sessions').set({ last_seen_at: at }).where('id', '=', id).execute();
    },
    async markTwoStepVerified(id, at) {
      await db
        .updateTable('sessions')
        .set({ assurance: 'two-step', verified_at: at, last_seen_at: at })
        .where('id', '=', id)
        .execute();
    },
    async revoke(accountId, id, at) {
      const result = await db
        .updateTable('sessions')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async revokeAll(accountId, at, options = {}) {
      let query = db
        .updateTable('sessions')
        .set({ revoked_at: at })
        .where('account_id', '=', accountId)
        .where('revoked_at', 'is', null);
      if (options.keepId) query = query.where('id', '!=', options.keepId);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    listActive: (accountId) =>
      db
        .selectFrom('sessions')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('revoked_at', 'is', null)
        .orderBy('last_seen_at', 'desc')
        .execute(),
  };
}
