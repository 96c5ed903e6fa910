import type { Db } from './database.ts';

export interface AuditEvent {
  accountId: string | null;
  actor: string;
  event: string;
  at: Date;
  ip: string | null;
  userAgent: string | null;
  details?: Record<string, unknown>;
}

export interface StoredAuditEvent extends AuditEvent {
  id: string;
  details: Record<string, unknown>;
}

export interface AuditStore {
  record(event: AuditEvent): Promise<void>;
  /** Newest first; `beforeId` pages further back. */
  listForAccount(accountId: string, options: { limit: number; beforeId?: string }): Promise<StoredAuditEvent[]>;
}

export function auditStore(db: Db): AuditStore {
  return {
    async record(event) {
      await db
        .insertInto('audit_events')
        .values({
          account_id: event.accountId,
          actor: event.actor,
          event: event.event,
          at: event.at,
          ip: event.ip,
          user_agent: event.userAgent,
          details: JSON.stringify(event.details ?? {}),
        })
        .execute();
    },
    async listForAccount(accountId, options) {
      let query = db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId);
      if (options.beforeId) query = query.where('id', '<', options.beforeId);
      const rows = await query.orderBy('id', 'desc').limit(options.limit).execute();
      return rows.map((row) => ({
        id: String(row.id),
        accountId: row.account_id,
        actor: row.actor,
        event: row.event,
        at: row.at,
        ip: row.ip,
        userAgent: row.user_agent,
        details: row.details,
      }));
    },
  };
}
