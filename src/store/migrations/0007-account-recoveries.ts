import type { Kysely } from 'kysely';

// Forgot password (SPEC §3.7, SECURITY.md items 22–26) as a persisted state machine: one row per
// attempt, its step moved forward by compare-and-set so no step can be skipped, reordered or replayed,
// and any node can carry on where another left off.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('account_recoveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('step', 'text', (c) => c.notNull())
    .addColumn('challenge_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('account_recoveries_account').on('account_recoveries').column('account_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('account_recoveries').execute();
}
