// oidc-provider's records behind its adapter interface (sessions, interactions, authorization codes,
// access and refresh tokens, grants…), one row per model and id, in the database so that any node
// can continue what another started. Expired rows are never returned and are swept by deleteExpired.
import { sql } from 'kysely';
import type { Db } from './database.ts';

export interface StoredPayload {
  payload: Record<string, unknown>;
  consumedAt: Date | null;
}

export interface OidcPayloadStore {
  save(model: string, id: string, payload: Record<string, unknown>, expiresAt: Date | null): Promise<void>;
  find(model: string, id: string, now: Date): Promise<StoredPayload | undefined>;
  findByUid(model: string, uid: string, now: Date): Promise<StoredPayload | undefined>;
  findByUserCode(model: string, userCode: string, now: Date): Promise<StoredPayload | undefined>;
  consume(model: string, id: string, at: Date): Promise<void>;
  destroy(model: string, id: string): Promise<void>;
  /** Everything issued under one grant: codes, tokens, the grant itself. */
  revokeGrant(grantId: string): Promise<void>;
  /** Every grant and token of one service (it was removed); returns how many records. */
  revokeClient(clientId: string): Promise<number>;
  /** Everything of one account (sessions, grants, tokens): it signs in to its services afresh. */
  revokeAccount(accountId: string): Promise<number>;
  deleteExpired(before: Date): Promise<number>;
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

export function oidcPayloadStore(db: Db): OidcPayloadStore {
  const live = (model: string, now: Date) =>
    db
      .selectFrom('oidc_payloads')
      .select(['payload', 'consumed_at'])
      .where('model', '=', model)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
  const found = (row: { payload: Record<string, unknown>; consumed_at: Date | null } | undefined) =>
    row ? { payload: row.payload, consumedAt: row.consumed_at } : undefined;
  return {
    async save(model, id, payload, expiresAt) {
      const row = {
        model,
        id,
        payload: JSON.stringify(payload),
        account_id: str(payload.accountId),
        grant_id: str(payload.grantId),
        uid: str(payload.uid),
        user_code: str(payload.userCode),
        expires_at: expiresAt,
        consumed_at: null,
      };
      await db
        .insertInto('oidc_payloads')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['model', 'id']).doUpdateSet({
            payload: row.payload,
            account_id: row.account_id,
            grant_id: row.grant_id,
            uid: row.uid,
            user_code: row.user_code,
            expires_at: row.expires_at,
          }),
        )
        .execute();
    },
    find: async (model, id, now) => found(await live(model, now).where('id', '=', id).executeTakeFirst()),
    findByUid: async (model, uid, now) => found(await live(model, now).where('uid', '=', uid).executeTakeFirst()),
    findByUserCode: async (model, userCode, now) =>
      found(await live(model, now).where('user_code', '=', userCode).executeTakeFirst()),
    async consume(model, id, at) {
      await db
        .updateTable('oidc_payloads')
        .set({ consumed_at: sql<Date>`coalesce(consumed_at, ${at})` })
        .where('model', '=', model)
        .where('id', '=', id)
        .execute();
    },
    async destroy(model, id) {
      await db.deleteFrom('oidc_payloads').where('model', '=', model).where('id', '=', id).execute();
    },
    async revokeGrant(grantId) {
      await db.deleteFrom('oidc_payloads').where('grant_id', '=', grantId).execute();
    },
    async revokeClient(clientId) {
      const result = await db
        .deleteFrom('oidc_payloads')
        .where(sql<string>`payload->>'clientId'`, '=', clientId)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async revokeAccount(accountId) {
      const result = await db.deleteFrom('oidc_payloads').where('account_id', '=', accountId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async deleteExpired(before) {
      const result = await db
        .deleteFrom('oidc_payloads')
        .where('expires_at', 'is not', null)
        .where('expires_at', '<', before)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
