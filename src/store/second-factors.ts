// What `GET /api/v1/me` shows of an account's second steps, in one round trip: that answer is on the
// session-check path, the hottest read of all, where two lists in two queries doubled its statements.
import { sql } from 'kysely';
import type { Db } from './database.ts';

export interface TrustedFactors {
  /** Trusted, not removed, oldest first. */
  devices: { id: string; name: string }[];
  /** Verified, not removed, oldest first. */
  phones: { id: string; e164: string }[];
}

export interface SecondFactorQueries {
  trustedOf(accountId: string): Promise<TrustedFactors>;
}

export function secondFactorQueries(db: Db): SecondFactorQueries {
  return {
    async trustedOf(accountId) {
      const rows = await db
        .selectFrom('devices')
        .select([sql<string>`'device'`.as('kind'), 'id', 'name as label', 'created_at'])
        .where('account_id', '=', accountId)
        .where('removed_at', 'is', null)
        .where('trusted_at', 'is not', null)
        .unionAll(
          db
            .selectFrom('phones')
            .select([sql<string>`'phone'`.as('kind'), 'id', 'e164 as label', 'created_at'])
            .where('account_id', '=', accountId)
            .where('removed_at', 'is', null)
            .where('verified_at', 'is not', null),
        )
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return {
        devices: rows.filter((r) => r.kind === 'device').map((r) => ({ id: r.id, name: r.label })),
        phones: rows.filter((r) => r.kind === 'phone').map((r) => ({ id: r.id, e164: r.label })),
      };
    },
  };
}
