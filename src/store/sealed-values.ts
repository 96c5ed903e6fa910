// Every value sealed with TWOSTEP_SECRET (core/seal.ts), as `twostep secret reseal` walks them after
// a rotation: authenticator apps, staff authenticator apps, OIDC client secrets, OIDC signing keys.
// Read in pages by id, replaced one at a time only if unchanged since read, so a value written by a
// running server meanwhile (a member re-enrolling) is never overwritten with an older one.
import type { Db } from './database.ts';

export const SEALED_KINDS = ['authenticator', 'staff-totp', 'oidc-client-secret', 'oidc-signing-key'] as const;
export type SealedKind = (typeof SEALED_KINDS)[number];

export interface SealedValue {
  id: string;
  sealed: string;
}

export interface SealedValueStore {
  /** Up to `limit` values of `kind` whose id sorts after `afterId` (all from the start when undefined), by id. */
  page(kind: SealedKind, afterId: string | undefined, limit: number): Promise<SealedValue[]>;
  /** Puts `sealed` in place of `expected`; false when the value changed (or went) since it was read. */
  replace(kind: SealedKind, id: string, expected: string, sealed: string): Promise<boolean>;
}

interface KindQueries {
  page(afterId: string | undefined, limit: number): Promise<SealedValue[]>;
  replace(id: string, expected: string, sealed: string): Promise<boolean>;
}

const updated = (result: { numUpdatedRows: bigint }): boolean => result.numUpdatedRows > 0n;

function queries(db: Db): Record<SealedKind, KindQueries> {
  return {
    // Removed apps are kept for the audit trail but answer nothing: only live ones are renewed.
    authenticator: {
      async page(afterId, limit) {
        let query = db
          .selectFrom('authenticators')
          .select(['id', 'secret_sealed as sealed'])
          .where('removed_at', 'is', null);
        if (afterId !== undefined) query = query.where('id', '>', afterId);
        return query.orderBy('id').limit(limit).execute();
      },
      async replace(id, expected, sealed) {
        return updated(
          await db
            .updateTable('authenticators')
            .set({ secret_sealed: sealed })
            .where('id', '=', id)
            .where('secret_sealed', '=', expected)
            .executeTakeFirst(),
        );
      },
    },
    'staff-totp': {
      async page(afterId, limit) {
        let query = db
          .selectFrom('staff')
          .select(['id', 'totp_secret_sealed'])
          .where('totp_secret_sealed', 'is not', null);
        if (afterId !== undefined) query = query.where('id', '>', afterId);
        const rows = await query.orderBy('id').limit(limit).execute();
        return rows.map((row) => ({ id: row.id, sealed: row.totp_secret_sealed as string }));
      },
      async replace(id, expected, sealed) {
        return updated(
          await db
            .updateTable('staff')
            .set({ totp_secret_sealed: sealed })
            .where('id', '=', id)
            .where('totp_secret_sealed', '=', expected)
            .executeTakeFirst(),
        );
      },
    },
    'oidc-client-secret': {
      async page(afterId, limit) {
        let query = db
          .selectFrom('relying_services')
          .select(['id', 'secret_sealed'])
          .where('secret_sealed', 'is not', null);
        if (afterId !== undefined) query = query.where('id', '>', afterId);
        const rows = await query.orderBy('id').limit(limit).execute();
        return rows.map((row) => ({ id: row.id, sealed: row.secret_sealed as string }));
      },
      async replace(id, expected, sealed) {
        return updated(
          await db
            .updateTable('relying_services')
            .set({ secret_sealed: sealed })
            .where('id', '=', id)
            .where('secret_sealed', '=', expected)
            .executeTakeFirst(),
        );
      },
    },
    'oidc-signing-key': {
      async page(afterId, limit) {
        let query = db.selectFrom('oidc_signing_keys').select(['kid as id', 'private_jwk_sealed as sealed']);
        if (afterId !== undefined) query = query.where('kid', '>', afterId);
        return query.orderBy('kid').limit(limit).execute();
      },
      async replace(id, expected, sealed) {
        return updated(
          await db
            .updateTable('oidc_signing_keys')
            .set({ private_jwk_sealed: sealed })
            .where('kid', '=', id)
            .where('private_jwk_sealed', '=', expected)
            .executeTakeFirst(),
        );
      },
    },
  };
}

export function sealedValueStore(db: Db): SealedValueStore {
  const byKind = queries(db);
  return {
    page: (kind, afterId, limit) => byKind[kind].page(afterId, limit),
    replace: (kind, id, expected, sealed) => byKind[kind].replace(id, expected, sealed),
  };
}
