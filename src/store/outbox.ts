// The development outbox: messages that would have gone out by email or SMS, kept in the database
// so that every node of a cluster and every test sees the same list.
import type { Db } from './database.ts';

export interface OutboxMessage {
  to: string;
  channel: 'email' | 'sms';
  subject?: string;
  body: string;
  links: string[];
  code?: string;
  at: Date;
}

export interface OutboxStore {
  add(message: OutboxMessage): Promise<void>;
  /** Newest first. */
  list(options: { limit: number; to?: string }): Promise<OutboxMessage[]>;
}

export function outboxStore(db: Db): OutboxStore {
  return {
    async add(message) {
      await db
        .insertInto('outbox')
        .values({
          to: message.to,
          channel: message.channel,
          subject: message.subject ?? null,
          body: message.body,
          links: JSON.stringify(message.links),
          code: message.code ?? null,
          at: message.at,
        })
        .execute();
    },
    async list(options) {
      let query = db.selectFrom('outbox').selectAll();
      if (options.to) query = query.where('to', '=', options.to);
      const rows = await query.orderBy('id', 'desc').limit(options.limit).execute();
      return rows.map((row) => ({
        to: row.to,
        channel: row.channel,
        ...(row.subject === null ? {} : { subject: row.subject }),
        body: row.body,
        links: row.links,
        ...(row.code === null ? {} : { code: row.code }),
        at: row.at,
      }));
    },
  };
}
