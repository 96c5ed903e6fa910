import type { Kysely } from 'kysely';

// Authenticator apps (TOTP, RFC 6238) of customer accounts: one row per app, the secret sealed with
// AES-256-GCM (core/seal.ts) because the server must read it back to check codes. Usable only once
// confirmed with a first code; removed rather than deleted so the audit trail keeps its reference.
// `last_step` is the last accepted time step: a code is accepted only for a later step, claimed by one
// conditional UPDATE (RFC 6238 §5.2; SECURITY.md item 19).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('authenticators')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('secret_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('confirmed_at', 'timestamptz')
    .addColumn('last_step', 'bigint')
    .addColumn('removed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('authenticators_account').on('authenticators').column('account_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('authenticators').execute();
}
