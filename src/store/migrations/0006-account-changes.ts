import type { Kysely } from 'kysely';

// SPEC §3.3, §3.17: a pending email change remembers the new address beside its emailed token; a
// browser that signed in to an account before is known (only a hash of its marker is kept), so a
// sign-in from any other browser tells the owner; every security email carries a single-use
// "This wasn't me" link, stored hashed.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('email_tokens').addColumn('new_email', 'text').execute();

  await db.schema
    .createTable('known_browsers')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('browser_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull())
    .addColumn('user_agent', 'text')
    .addPrimaryKeyConstraint('known_browsers_pkey', ['account_id', 'browser_hash'])
    .execute();

  await db.schema
    .createTable('not_me_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('notice', 'text', (c) => c.notNull())
    // On the "your email was changed" notice: the address a report puts back.
    .addColumn('restore_email', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('not_me_tokens_account').on('not_me_tokens').column('account_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('not_me_tokens').execute();
  await db.schema.dropTable('known_browsers').execute();
  await db.schema.alterTable('email_tokens').dropColumn('new_email').execute();
}
