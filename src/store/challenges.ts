// Challenges (SPEC §2): one pending verification with one live code. Every budget check and the
// single use of a code are one conditional UPDATE, so concurrent attempts cannot both succeed or
// lose a failure (SECURITY.md items 7, 12; DESIGN.md convention 5).
import type { Db } from './database.ts';

export interface Challenge {
  id: string;
  accountId: string;
  purpose: string;
  subject: string | null;
  codeHash: string | null;
  codeSentAt: Date | null;
  createdAt: Date;
  expiresAt: Date;
  failedAttempts: number;
  maxAttempts: number;
  completedAt: Date | null;
  cancelledAt: Date | null;
  context: Record<string, unknown>;
}

export type VerifyOutcome =
  | { result: 'completed'; challenge: Challenge }
  | { result: 'wrong'; attemptsLeft: number }
  | { result: 'dead'; reason: 'expired' | 'cancelled' | 'completed' | 'exhausted' | 'missing' };

export interface ChallengeStore {
  create(challenge: Omit<Challenge, 'failedAttempts' | 'completedAt' | 'cancelledAt'>): Promise<void>;
  find(id: string): Promise<Challenge | undefined>;
  /** Replaces the live code (a resend); the failure count stays. */
  replaceCode(id: string, codeHash: string, at: Date): Promise<boolean>;
  /**
   * Completes the challenge if `matches` accepts its live code hash (null before any code was sent:
   * only an authenticator-app code can answer then) and it is still open; otherwise counts a failure.
   * `matches` compares in constant time. `current` is the challenge as the caller read it in this
   * request: both UPDATEs are conditional on the row still being open (and the completion on it
   * still having the code that was compared), so a stale read can make an answer fail, never pass.
   */
  verify(current: Challenge, matches: (storedHash: string | null) => boolean, at: Date): Promise<VerifyOutcome>;
  cancel(id: string, at: Date): Promise<boolean>;
  /** Cancels every open challenge of the account ("This wasn't me"); returns their ids. */
  cancelOpen(accountId: string, at: Date): Promise<string[]>;
}

type Row = {
  id: string;
  account_id: string;
  purpose: string;
  subject: string | null;
  code_hash: string | null;
  code_sent_at: Date | null;
  created_at: Date;
  expires_at: Date;
  failed_attempts: number;
  max_attempts: number;
  completed_at: Date | null;
  cancelled_at: Date | null;
  context: Record<string, unknown>;
};

function fromRow(row: Row): Challenge {
  return {
    id: row.id,
    accountId: row.account_id,
    purpose: row.purpose,
    subject: row.subject,
    codeHash: row.code_hash,
    codeSentAt: row.code_sent_at,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    failedAttempts: row.failed_attempts,
    maxAttempts: row.max_attempts,
    completedAt: row.completed_at,
    cancelledAt: row.cancelled_at,
    context: row.context,
  };
}

function deadReason(challenge: Challenge, at: Date): Extract<VerifyOutcome, { result: 'dead' }>['reason'] | undefined {
  if (challenge.completedAt) return 'completed';
  if (challenge.cancelledAt) return 'cancelled';
  if (challenge.failedAttempts >= challenge.maxAttempts) return 'exhausted';
  if (challenge.expiresAt.getTime() <= at.getTime()) return 'expired';
  return undefined;
}

export function challengeStore(db: Db): ChallengeStore {
  const open = (at: Date) =>
    db
      .updateTable('challenges')
      .where('completed_at', 'is', null)
      .where('cancelled_at', 'is', null)
      .where('expires_at', '>', at)
      .whereRef('failed_attempts', '<', 'max_attempts');
  return {
    async create(challenge) {
      await db
        .insertInto('challenges')
        .values({
          id: challenge.id,
          account_id: challenge.accountId,
          purpose: challenge.purpose,
          subject: challenge.subject,
          code_hash: challenge.codeHash,
          code_sent_at: challenge.codeSentAt,
          created_at: challenge.createdAt,
          expires_at: challenge.expiresAt,
          max_attempts: challenge.maxAttempts,
          completed_at: null,
          cancelled_at: null,
          context: JSON.stringify(challenge.context),
        })
        .execute();
    },
    async find(id) {
      const row = await db.selectFrom('challenges').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async replaceCode(id, codeHash, at) {
      const result = await open(at)
        .set({ code_hash: codeHash, code_sent_at: at })
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async verify(current, matches, at) {
      const { id } = current;
      const dead = deadReason(current, at);
      if (dead) return { result: 'dead', reason: dead };
      if (matches(current.codeHash)) {
        // Only the first of concurrent correct answers finds the row still open, and only for the code it compared.
        const row = await open(at)
          .set({ completed_at: at })
          .where('id', '=', id)
          .where('code_hash', current.codeHash === null ? 'is' : '=', current.codeHash)
          .returningAll()
          .executeTakeFirst();
        if (row) return { result: 'completed', challenge: fromRow(row) };
        const now = await this.find(id);
        if (!now) return { result: 'dead', reason: 'missing' };
        return { result: 'dead', reason: deadReason(now, at) || 'completed' };
      }
      const failed = await open(at)
        .set((eb) => ({ failed_attempts: eb('failed_attempts', '+', 1) }))
        .where('id', '=', id)
        .returning(['failed_attempts', 'max_attempts'])
        .executeTakeFirst();
      if (!failed) return { result: 'dead', reason: 'exhausted' };
      return { result: 'wrong', attemptsLeft: failed.max_attempts - failed.failed_attempts };
    },
    async cancel(id, at) {
      const result = await db
        .updateTable('challenges')
        .set({ cancelled_at: at })
        .where('id', '=', id)
        .where('completed_at', 'is', null)
        .where('cancelled_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async cancelOpen(accountId, at) {
      const rows = await db
        .updateTable('challenges')
        .set({ cancelled_at: at })
        .where('account_id', '=', accountId)
        .where('completed_at', 'is', null)
        .where('cancelled_at', 'is', null)
        .where('expires_at', '>', at)
        .returning('id')
        .execute();
      return rows.map((row) => row.id);
    },
  };
}
