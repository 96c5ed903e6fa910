import type { Kysely } from 'kysely';

// SPEC §3.15: staff accounts live apart from customer accounts (their own table, sessions and cookie),
// so no customer session, password reset or sign-up can ever reach the console, and no staff row can
// sign in to the portal.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('staff')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull()) // 'support' | 'admin'
    .addColumn('password_hash', 'text', (c) => c.notNull())
    // The TOTP secret (RFC 6238), encrypted with a key derived from TWOSTEP_SECRET (core/seal.ts): the
    // server must read it back to check codes, so it cannot be hashed. Null until set up.
    .addColumn('totp_secret_sealed', 'text')
    // Set when a code from the authenticator proved the setup; until then the member cannot enter.
    .addColumn('totp_confirmed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull()) // an audit actor: 'operator:cli' or 'staff:<id>'
    .addColumn('disabled_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('staff_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('staff_id', 'text', (c) => c.notNull().references('staff.id'))
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .execute();
  await db.schema.createIndex('staff_sessions_staff').on('staff_sessions').column('staff_id').execute();
  // The console's audit browser filters by actor and event over every account.
  await db.schema.createIndex('audit_events_actor').on('audit_events').column('actor').execute();
  await db.schema.createIndex('audit_events_event').on('audit_events').column('event').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('audit_events_event').execute();
  await db.schema.dropIndex('audit_events_actor').execute();
  await db.schema.dropTable('staff_sessions').execute();
  await db.schema.dropTable('staff').execute();
}
