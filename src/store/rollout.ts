import { type CountryRollout, DEFAULT_ROLLOUT } from '../core/rollout.ts';
import type { Db } from './database.ts';

export interface RolloutStore {
  /** The country's state; the default when it was never set. */
  get(country: string): Promise<CountryRollout>;
  /** Only the countries that were set explicitly. */
  listSet(): Promise<CountryRollout[]>;
  set(states: CountryRollout[], at: Date): Promise<void>;
}

export function rolloutStore(db: Db): RolloutStore {
  return {
    async get(country) {
      const row = await db
        .selectFrom('rollout_countries')
        .selectAll()
        .where('country', '=', country)
        .executeTakeFirst();
      return row
        ? { country, twoStep: row.two_step, sms: row.sms, wave: row.wave }
        : { country, ...DEFAULT_ROLLOUT, wave: null };
    },
    async listSet() {
      const rows = await db.selectFrom('rollout_countries').selectAll().orderBy('country').execute();
      return rows.map((row) => ({ country: row.country, twoStep: row.two_step, sms: row.sms, wave: row.wave }));
    },
    async set(states, at) {
      if (states.length === 0) return;
      await db
        .insertInto('rollout_countries')
        .values(
          states.map((s) => ({ country: s.country, two_step: s.twoStep, sms: s.sms, wave: s.wave, changed_at: at })),
        )
        .onConflict((oc) =>
          oc.column('country').doUpdateSet((eb) => ({
            two_step: eb.ref('excluded.two_step'),
            sms: eb.ref('excluded.sms'),
            wave: eb.ref('excluded.wave'),
            changed_at: eb.ref('excluded.changed_at'),
          })),
        )
        .execute();
    },
  };
}
