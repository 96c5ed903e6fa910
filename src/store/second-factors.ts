// What `GET /api/v1/me` shows of an account's second steps, in one round trip: that answer is on the
// session-check path, the hottest read of all, where two lists in two queries doubled its statements.
import { sql } from 'kysely';
import { DEFAULT_ROLLOUT } from '../core/rollout.ts';
import type { Db } from './database.ts';

export interface TrustedFactors {
  /** Trusted, not removed, oldest first. */
  devices: { id: string; name: string }[];
  /** Verified, not removed, oldest first. */
  phones: { id: string; e164: string }[];
}

/** One second step the account can answer a challenge with now, as the channel registry lists them. */
export interface ChannelRow {
  kind: 'device' | 'sms' | 'totp' | 'webauthn';
  id: string;
  /** A device's or key's name, an app's label, a phone's number. */
  label: string;
}

export interface SecondFactorQueries {
  trustedOf(accountId: string): Promise<TrustedFactors>;
  /**
   * Trusted devices, verified phones whose country allows SMS, confirmed apps and security keys, oldest
   * first, in one round trip: the password step lists them for every two-step sign-in, where four
   * queries were a quarter of its statements.
   */
  channelRowsOf(accountId: string): Promise<ChannelRow[]>;
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
    async channelRowsOf(accountId) {
      const rows = await db
        .selectFrom('devices')
        .select([sql<ChannelRow['kind']>`'device'`.as('kind'), 'id', 'name as label', 'created_at'])
        .where('account_id', '=', accountId)
        .where('removed_at', 'is', null)
        .where('trusted_at', 'is not', null)
        .unionAll(
          db
            .selectFrom('phones')
            .leftJoin('rollout_countries', 'rollout_countries.country', 'phones.country')
            .select([
              sql<ChannelRow['kind']>`'sms'`.as('kind'),
              'phones.id',
              'phones.e164 as label',
              'phones.created_at',
            ])
            .where('phones.account_id', '=', accountId)
            .where('phones.removed_at', 'is', null)
            .where('phones.verified_at', 'is not', null)
            .where((eb) => eb.fn.coalesce('rollout_countries.sms', eb.lit(DEFAULT_ROLLOUT.sms)), '=', true),
        )
        .unionAll(
          db
            .selectFrom('authenticators')
            .select([sql<ChannelRow['kind']>`'totp'`.as('kind'), 'id', 'label', 'created_at'])
            .where('account_id', '=', accountId)
            .where('removed_at', 'is', null)
            .where('confirmed_at', 'is not', null),
        )
        .unionAll(
          db
            .selectFrom('security_keys')
            .select([sql<ChannelRow['kind']>`'webauthn'`.as('kind'), 'id', 'name as label', 'created_at'])
            .where('account_id', '=', accountId)
            .where('removed_at', 'is', null),
        )
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(({ kind, id, label }) => ({ kind, id, label }));
    },
  };
}
