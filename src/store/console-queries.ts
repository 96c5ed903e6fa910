// The console's read-only queries across accounts (SPEC §3.15): finding an account, and the audit
// browser. Kept apart from the owner-facing ports, which only ever see one account.
import type { Account } from './accounts.ts';
import type { StoredAuditEvent } from './audit.ts';
import type { Db } from './database.ts';

export interface AuditFilter {
  accountId?: string;
  actor?: string;
  /** An exact event name, or an entity prefix ending in '.' (e.g. `support.`). */
  event?: string;
  /** Inclusive: events at or after this instant. */
  from?: Date;
  /** Exclusive: events before this instant (flows/staff/audit-browser.ts turns a chosen day into the next midnight). */
  to?: Date;
  /** Pages further back: only events older than this id. */
  beforeId?: string;
  limit: number;
}

export interface ConsoleQueries {
  /** Accounts whose id is `query` or whose email starts with it (case-insensitive), at most `limit`. */
  searchAccounts(query: string, limit: number): Promise<Account[]>;
  /** Audit events matching every given filter, newest first. */
  searchAudit(filter: AuditFilter): Promise<StoredAuditEvent[]>;
}

/** LIKE treats `%`, `_` and `\` specially; a search for them means the characters themselves. */
function likePrefix(value: string): string {
  return `${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function consoleQueries(db: Db): ConsoleQueries {
  return {
    searchAccounts: (query, limit) =>
      db
        .selectFrom('accounts')
        .selectAll()
        .where((eb) => eb.or([eb('id', '=', query), eb('email', 'like', likePrefix(query.toLowerCase()))]))
        .orderBy('email')
        .limit(limit)
        .execute(),
    async searchAudit(filter) {
      let query = db.selectFrom('audit_events').selectAll();
      if (filter.accountId) query = query.where('account_id', '=', filter.accountId);
      if (filter.actor) query = query.where('actor', '=', filter.actor);
      if (filter.event?.endsWith('.')) query = query.where('event', 'like', likePrefix(filter.event));
      else if (filter.event) query = query.where('event', '=', filter.event);
      if (filter.from) query = query.where('at', '>=', filter.from);
      if (filter.to) query = query.where('at', '<', filter.to);
      // Ids are a bigint sequence: compare as numbers, not text.
      if (filter.beforeId) query = query.where('id', '<', filter.beforeId);
      const rows = await query.orderBy('id', 'desc').limit(filter.limit).execute();
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
