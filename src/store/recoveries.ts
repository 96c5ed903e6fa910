import type { Db } from './database.ts';
import type { RecoveryMethod, RecoveryStep } from './schema.ts';

export interface Recovery {
  id: string;
  accountId: string;
  secretHash: string;
  method: RecoveryMethod;
  step: RecoveryStep;
  challengeId: string | null;
  expiresAt: Date;
}

export interface RecoveryStore {
  /** Starts a recovery; every older unfinished recovery of the account dies (a new request kills older links). */
  start(recovery: Recovery & { createdAt: Date }): Promise<void>;
  find(id: string): Promise<Recovery | undefined>;
  /**
   * Moves a live recovery from one step to the next, atomically: true for exactly one caller, false
   * when it is at another step, expired or superseded. This is what makes steps impossible to skip or replay.
   */
  advance(id: string, from: RecoveryStep, to: RecoveryStep, at: Date): Promise<boolean>;
}

export function recoveryStore(db: Db): RecoveryStore {
  return {
    async start(recovery) {
      await db
        .updateTable('account_recoveries')
        .set({ step: 'superseded', updated_at: recovery.createdAt })
        .where('account_id', '=', recovery.accountId)
        .where('step', 'not in', ['completed', 'superseded'])
        .execute();
      await db
        .insertInto('account_recoveries')
        .values({
          id: recovery.id,
          account_id: recovery.accountId,
          secret_hash: recovery.secretHash,
          method: recovery.method,
          step: recovery.step,
          challenge_id: recovery.challengeId,
          created_at: recovery.createdAt,
          updated_at: recovery.createdAt,
          expires_at: recovery.expiresAt,
        })
        .execute();
    },
    async find(id) {
      const row = await db.selectFrom('account_recoveries').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return undefined;
      return {
        id: row.id,
        accountId: row.account_id,
        secretHash: row.secret_hash,
        method: row.method,
        step: row.step,
        challengeId: row.challenge_id,
        expiresAt: row.expires_at,
      };
    },
    async advance(id, from, to, at) {
      const result = await db
        .updateTable('account_recoveries')
        .set({ step: to, updated_at: at })
        .where('id', '=', id)
        .where('step', '=', from)
        .where('expires_at', '>', at)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}
