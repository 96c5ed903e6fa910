import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('accounts')
    .addColumn('two_step_enabled_at', 'timestamptz')
    // The last password reset or security change: enabling two-step waits three days after it (SPEC §3.4).
    .addColumn('security_changed_at', 'timestamptz')
    .addColumn('recovery_key_hash', 'text')
    .addColumn('recovery_key_created_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('phones')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('e164', 'text', (c) => c.notNull())
    .addColumn('country', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('verified_at', 'timestamptz')
    .addColumn('removed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('phones_account').on('phones').column('account_id').execute();
  await sql`create unique index phones_account_number on phones (account_id, e164) where removed_at is null`.execute(
    db,
  );

  await db.schema
    .createTable('trusted_browsers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('user_agent', 'text')
    .execute();
  await db.schema.createIndex('trusted_browsers_account').on('trusted_browsers').column('account_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('trusted_browsers').execute();
  await db.schema.dropTable('phones').execute();
  await db.schema
    .alterTable('accounts')
    .dropColumn('two_step_enabled_at')
    .dropColumn('security_changed_at')
    .dropColumn('recovery_key_hash')
    .dropColumn('recovery_key_created_at')
    .execute();
}
