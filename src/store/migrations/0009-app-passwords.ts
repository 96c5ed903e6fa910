import { type Kysely, sql } from 'kysely';

// App-specific passwords (SPEC §2, §3.13): one row per password, argon2id-hashed, revoked rather than
// deleted so the owner's history and "last used" stay readable to the audit trail. The 8-bit hint
// (core/app-password.ts) is unique among an account's live passwords: a check verifies one hash.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('app_passwords')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('hint', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('last_used_ip', 'text')
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await sql`create unique index app_passwords_live_hint on app_passwords (account_id, hint) where revoked_at is null`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('app_passwords').execute();
}
