// The OpenID Connect provider's signing keys (SPEC §3.14): the newest live key signs; retired keys
// stay published until every token they signed has expired, then the caller deletes them.
import type { Db } from './database.ts';

/** The purpose the private keys are sealed for (core/seal.ts): a key of its own, derived from TWOSTEP_SECRET. */
export const SIGNING_KEY_SEAL = 'oidc-signing-keys';

export interface SigningKeyRow {
  kid: string;
  alg: string;
  privateJwkSealed: string;
  createdAt: Date;
  retiredAt: Date | null;
}

export interface OidcKeyStore {
  /** Every stored key, the signing one (newest, not retired) first. */
  list(): Promise<SigningKeyRow[]>;
  add(key: SigningKeyRow): Promise<void>;
  /** Retires every live key but `keepKid`; returns how many. */
  retireAllBut(keepKid: string, at: Date): Promise<number>;
  /** Deletes keys retired before `before`; returns how many. */
  deleteRetiredBefore(before: Date): Promise<number>;
}

export function oidcKeyStore(db: Db): OidcKeyStore {
  return {
    async list() {
      const rows = await db
        .selectFrom('oidc_signing_keys')
        .selectAll()
        .orderBy('retired_at', (ob) => ob.desc().nullsFirst())
        .orderBy('created_at', 'desc')
        .execute();
      return rows.map((row) => ({
        kid: row.kid,
        alg: row.alg,
        privateJwkSealed: row.private_jwk_sealed,
        createdAt: row.created_at,
        retiredAt: row.retired_at,
      }));
    },
    async add(key) {
      await db
        .insertInto('oidc_signing_keys')
        .values({
          kid: key.kid,
          alg: key.alg,
          private_jwk_sealed: key.privateJwkSealed,
          created_at: key.createdAt,
          retired_at: key.retiredAt,
        })
        .execute();
    },
    async retireAllBut(keepKid, at) {
      const result = await db
        .updateTable('oidc_signing_keys')
        .set({ retired_at: at })
        .where('kid', '!=', keepKid)
        .where('retired_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async deleteRetiredBefore(before) {
      const result = await db
        .deleteFrom('oidc_signing_keys')
        .where('retired_at', 'is not', null)
        .where('retired_at', '<', before)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
