import type { Kysely } from 'kysely';

// Security keys (WebAuthn) of staff members: a second step at console sign-in besides the TOTP code
// (SPEC §3.15). A table of their own, like everything of staff (0010-staff.ts): a customer's key can
// never name a staff member, nor the reverse. `credential_id` is unique, `sign_count` only moves
// forward (store/staff-security-keys.ts), and a removed key keeps its row for the audit trail.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('staff_security_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('staff_id', 'text', (c) => c.notNull().references('staff.id'))
    .addColumn('credential_id', 'text', (c) => c.notNull().unique())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('sign_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('transports', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('removed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('staff_security_keys_staff').on('staff_security_keys').column('staff_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('staff_security_keys').execute();
}
