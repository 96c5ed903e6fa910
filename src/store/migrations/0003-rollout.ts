import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // A country without a row has the default rollout (everything available, SPEC §5).
  await db.schema
    .createTable('rollout_countries')
    .addColumn('country', 'text', (c) => c.primaryKey())
    .addColumn('two_step', 'boolean', (c) => c.notNull())
    .addColumn('sms', 'boolean', (c) => c.notNull())
    .addColumn('wave', 'text')
    .addColumn('changed_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('rollout_countries').execute();
}
