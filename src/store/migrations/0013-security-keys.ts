import type { Kysely } from 'kysely';

// Security keys and passkeys (WebAuthn) of customer accounts: one row per registered credential.
// Only the public key is kept (COSE, as the authenticator gave it); `credential_id` is unique across
// all accounts, because a passkey sign-in finds its account by it. `sign_count` is the authenticator's
// counter, advanced by one conditional UPDATE so a cloned key's replayed counter is refused. Removed
// rather than deleted so the audit trail keeps its reference.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('security_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('credential_id', 'text', (c) => c.notNull().unique())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('sign_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('transports', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('passkey', 'boolean', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('removed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('security_keys_account').on('security_keys').column('account_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('security_keys').execute();
}
