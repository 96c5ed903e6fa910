// Console sessions: the same `id.secret` tokens as customer sessions (only the hash stored), in a table
// of their own, so a customer token can never open the console and a staff token never the portal.
import type { Db } from './database.ts';
import type { StaffSessionsTable } from './schema.ts';

export type StaffSessionRow = StaffSessionsTable;

export interface StaffSessionStore {
  create(session: StaffSessionRow): Promise<void>;
  /** The session if it exists and was not revoked; expiry is judged by the caller. */
  findActive(id: string): Promise<StaffSessionRow | undefined>;
  touch(id: string, at: Date): Promise<void>;
  revoke(id: string, at: Date): Promise<boolean>;
  /** Every session of a member (disabled, or role changed); returns how many. */
  revokeAllFor(staffId: string, at: Date): Promise<number>;
}

export function staffSessionStore(db: Db): StaffSessionStore {
  return {
    async create(session) {
      await db.insertInto('staff_sessions').values(session).execute();
    },
    findActive: (id) =>
      db
        .selectFrom('staff_sessions')
        .selectAll()
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst(),
    async touch(id, at) {
      await db.updateTable('staff_sessions').set({ last_seen_at: at }).where('id', '=', id).execute();
    },
    async revoke(id, at) {
      const result = await db
        .updateTable('staff_sessions')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async revokeAllFor(staffId, at) {
      const result = await db
        .updateTable('staff_sessions')
        .set({ revoked_at: at })
        .where('staff_id', '=', staffId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}
