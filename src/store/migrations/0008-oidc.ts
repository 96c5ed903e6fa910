import { type Kysely, sql } from 'kysely';

// SPEC §3.14: the OpenID Connect provider keeps everything in the database, so any node can continue
// a flow another node started (DESIGN.md "stateless nodes"): the relying services, the signing keys,
// and oidc-provider's own records (sessions, interactions, codes, tokens, grants).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('relying_services')
    .addColumn('id', 'text', (c) => c.primaryKey()) // the OAuth client_id
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull()) // 'confidential' | 'public'
    // The client secret, encrypted with a key derived from TWOSTEP_SECRET: oidc-provider compares
    // the secret itself, so a one-way hash cannot serve; a copy of the database alone does not reveal it.
    .addColumn('secret_sealed', 'text')
    .addColumn('redirect_uris', 'jsonb', (c) => c.notNull())
    .addColumn('post_logout_redirect_uris', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('removed_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('oidc_signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('private_jwk_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    // A retired key signs nothing new but stays published until the tokens it signed have expired.
    .addColumn('retired_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('oidc_payloads')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('account_id', 'text')
    .addColumn('grant_id', 'text')
    .addColumn('uid', 'text')
    .addColumn('user_code', 'text')
    .addColumn('expires_at', 'timestamptz')
    .addColumn('consumed_at', 'timestamptz')
    .addPrimaryKeyConstraint('oidc_payloads_pk', ['model', 'id'])
    .execute();
  await db.schema.createIndex('oidc_payloads_grant').on('oidc_payloads').column('grant_id').execute();
  await db.schema.createIndex('oidc_payloads_account').on('oidc_payloads').column('account_id').execute();
  await db.schema.createIndex('oidc_payloads_expires').on('oidc_payloads').column('expires_at').execute();
  await sql`create index oidc_payloads_uid on oidc_payloads (uid) where uid is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('oidc_payloads').execute();
  await db.schema.dropTable('oidc_signing_keys').execute();
  await db.schema.dropTable('relying_services').execute();
}
