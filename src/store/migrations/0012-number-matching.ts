import type { Kysely } from 'kysely';

// SPEC §4: number matching is a deployment policy and also something an account holder can require
// for their own account, whatever the deployment does.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('accounts')
    .addColumn('number_matching', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('accounts').dropColumn('number_matching').execute();
}
