import type { Kysely } from 'kysely';

// SPEC §3.4: "the page says when [the waiting period] ends and an email is sent then". The owner
// asked (by trying to turn two-step verification on during the wait); the notice is sent once.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('accounts')
    .addColumn('waiting_notice_requested_at', 'timestamptz')
    .addColumn('waiting_notice_sent_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('accounts')
    .dropColumn('waiting_notice_requested_at')
    .dropColumn('waiting_notice_sent_at')
    .execute();
}
