import type { Account } from './accounts.ts';
import type { Db } from './database.ts';
import type { SessionsTable } from './schema.ts';

export type SessionRow = SessionsTable;

export interface SessionStore {
  create(session: SessionRow): Promise<void>;
  /** The session if it exists and was not revoked; expiry is judged by the caller's policy. */
  findActive(id: string): Promise<SessionRow | undefined>;
  /** findActive and the session's account in one round trip: every authenticated request needs both. */
  findActiveWithAccount(id: string): Promise<{ session: SessionRow; account: Account } | undefined>;
  touch(id: string, at: Date): Promise<void>;
  /** A completed two-step verification: the session is two-step as of `at`. */
  markTwoStepVerified(accountId: string, id: string, at: Date): Promise<void>;
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
    async findActiveWithAccount(id) {
      // The account's columns keep their names; the session's are prefixed, since both tables have `id` and `created_at`.
      const row = await db
        .selectFrom('sessions')
        .innerJoin('accounts', 'accounts.id', 'sessions.account_id')
        .selectAll('accounts')
        .select([
          'sessions.id as session_id',
          'sessions.account_id as session_account_id',
          'sessions.secret_hash as session_secret_hash',
          'sessions.assurance as session_assurance',
          'sessions.created_at as session_created_at',
          'sessions.last_seen_at as session_last_seen_at',
          'sessions.verified_at as session_verified_at',
          'sessions.revoked_at as session_revoked_at',
          'sessions.ip as session_ip',
          'sessions.user_agent as session_user_agent',
        ])
        .where('sessions.id', '=', id)
        .where('sessions.revoked_at', 'is', null)
        .executeTakeFirst();
      if (!row) return undefined;
      const {
        session_id,
        session_account_id,
        session_secret_hash,
        session_assurance,
        session_created_at,
        session_last_seen_at,
        session_verified_at,
        session_revoked_at,
        session_ip,
        session_user_agent,
        ...account
      } = row;
      const session: SessionRow = {
        id: session_id,
        account_id: session_account_id,
        secret_hash: session_secret_hash,
        assurance: session_assurance,
        created_at: session_created_at,
        last_seen_at: session_last_seen_at,
        verified_at: session_verified_at,
        revoked_at: session_revoked_at,
        ip: session_ip,
        user_agent: session_user_agent,
      };
      return { session, account };
    },
    async touch(id, at) {
      await db.updateTable('sessions').set({ last_seen_at: at }).where('id', '=', id).execute();
    },
    async markTwoStepVerified(accountId, id, at) {
      await db
        .updateTable('sessions')
        .set({ assurance: 'two-step', verified_at: at, last_seen_at: at })
        .where('id', '=', id)
        .where('account_id', '=', accountId)
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
