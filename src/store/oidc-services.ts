// The relying services (OpenID Connect clients) the operator registered (SPEC §3.14). A removed
// service keeps its row (audit, no id reuse) but is never found again.
import type { Db } from './database.ts';
import type { RelyingServiceKind } from './schema.ts';

/** The sealing purpose of client secrets (core/seal.ts): flows seal with it, the provider's adapter opens. */
export const CLIENT_SECRET_SEAL = 'oidc-client-secrets';

export interface RelyingService {
  id: string;
  name: string;
  kind: RelyingServiceKind;
  secretSealed: string | null;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  createdAt: Date;
}

export interface RelyingServiceStore {
  add(service: RelyingService): Promise<void>;
  find(id: string): Promise<RelyingService | undefined>;
  list(): Promise<RelyingService[]>;
  /** False when there was no such live service. */
  remove(id: string, at: Date): Promise<boolean>;
}

type Row = {
  id: string;
  name: string;
  kind: RelyingServiceKind;
  secret_sealed: string | null;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  created_at: Date;
};

function fromRow(row: Row): RelyingService {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    secretSealed: row.secret_sealed,
    redirectUris: row.redirect_uris,
    postLogoutRedirectUris: row.post_logout_redirect_uris,
    createdAt: row.created_at,
  };
}

export function relyingServiceStore(db: Db): RelyingServiceStore {
  const live = () =>
    db
      .selectFrom('relying_services')
      .select(['id', 'name', 'kind', 'secret_sealed', 'redirect_uris', 'post_logout_redirect_uris', 'created_at'])
      .where('removed_at', 'is', null);
  return {
    async add(service) {
      await db
        .insertInto('relying_services')
        .values({
          id: service.id,
          name: service.name,
          kind: service.kind,
          secret_sealed: service.secretSealed,
          redirect_uris: JSON.stringify(service.redirectUris),
          post_logout_redirect_uris: JSON.stringify(service.postLogoutRedirectUris),
          created_at: service.createdAt,
          removed_at: null,
        })
        .execute();
    },
    async find(id) {
      const row = await live().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async list() {
      return (await live().orderBy('created_at').execute()).map(fromRow);
    },
    async remove(id, at) {
      const result = await db
        .updateTable('relying_services')
        .set({ removed_at: at })
        .where('id', '=', id)
        .where('removed_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}
