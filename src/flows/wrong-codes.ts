// The account's budgets for wrong codes (SPEC §5, §3.11), beside the per-challenge attempt count.
//
// Codes after a correct password (sign-in, step-up; a wrong recovery key after the password) count
// toward the account budget. With two-step verification its end is the `locked` state, which only
// the recovery key (with the password or a code) or a reset opens: a lock there means someone knows
// the password. Without two-step verification there is no recovery key, so the same budget ends in a
// timed lock instead, growing with each lock and bounded, which a password reset also ends.
//
// Codes in a forgot-password recovery follow only the recovery key, not the password: someone
// holding the key alone must not be able to lock the owner out (SPEC §5: a lock is reachable only
// after a correct password). They count in a budget of their own, whose end pauses the account's
// recoveries for a while, so the code still cannot be guessed across many recoveries.
import { DAY, HOUR, MINUTE } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import { timedLockMs } from '../core/signin-throttle.ts';
import type { Account } from '../store/accounts.ts';
import { origin, type RequestContext, type Services } from './context.ts';

const WRONG_CODES_WINDOW_MS = 30 * DAY;
/** Timed locks within this long of each other grow; after it, the next one starts short again. */
const TIMED_LOCKS_WINDOW_MS = 30 * DAY;

const wrongKey = (accountId: string): string => `codes:wrong:${accountId}`;
const timedLockKey = (accountId: string): string => `codes:locked:${accountId}`;
const timedLocksKey = (accountId: string): string => `codes:locks:${accountId}`;
const recoveryWrongKey = (accountId: string): string => `recovery:wrong:${accountId}`;
const recoveryPausedKey = (accountId: string): string => `recovery:paused:${accountId}`;

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/** Counts a wrong second step against the account; at the limit the account locks (for good or for a time). */
export async function countWrongCode(services: Services, accountId: string, ctx: RequestContext): Promise<void> {
  const wrong = await services.kv.increment(wrongKey(accountId), WRONG_CODES_WINDOW_MS);
  if (wrong < services.config.policy.wrongCodesPerAccount) return;
  const account = await services.store.accounts.findById(accountId);
  if (!account) return;
  const now = services.clock.now();
  if (account.two_step_enabled_at) {
    await services.store.transaction(async (tx) => {
      if (await tx.accounts.lock(accountId, now)) {
        services.metrics.lockout('locked');
        await tx.audit.record({
          accountId,
          actor: 'system',
          event: 'account.locked',
          at: now,
          ...origin(ctx),
          details: { wrongCodes: wrong },
        });
      }
    });
    return;
  }
  const { policy } = services.config;
  const lockNumber = await services.kv.increment(timedLocksKey(accountId), TIMED_LOCKS_WINDOW_MS);
  const lockMs = timedLockMs(lockNumber, policy.codeLockMinutes * MINUTE, policy.codeLockMaxMinutes * MINUTE);
  await services.kv.set(timedLockKey(accountId), '1', lockMs);
  services.metrics.lockout('timed');
  // The next lock needs a full budget of wrong codes again, after this one ends.
  await services.kv.delete(wrongKey(accountId));
  await services.store.audit.record({
    accountId,
    actor: 'system',
    event: 'account.locked',
    at: now,
    ...origin(ctx),
    details: { wrongCodes: wrong, minutes: Math.round(lockMs / MINUTE) },
  });
}

/** Refuses while a timed lock runs (accounts without two-step verification), with when to try again. */
export async function assertNoTimedLock(services: Services, accountId: string): Promise<void> {
  const remaining = await services.kv.remainingMs(timedLockKey(accountId));
  if (remaining !== undefined && remaining > 0)
    throw new AppError('ACCOUNT_LOCKED_FOR_NOW', { retryAfterSeconds: seconds(remaining) });
}

/**
 * Refuses while the account is locked (two-step accounts at the end of their budget). Challenges
 * opened before the lock stay open, so without this every one of them kept checking guesses after
 * the budget was spent, and a right guess (refused only afterwards) also cleared the budget.
 */
export async function assertNotLocked(services: Services, accountId: string, read?: Account): Promise<void> {
  const account = read?.id === accountId ? read : await services.store.accounts.findById(accountId);
  if (account?.state === 'locked') throw new AppError('ACCOUNT_LOCKED');
}

/** A right code: the account budget starts again (a timed lock already running still runs). */
export async function forgiveWrongCodes(services: Services, accountId: string): Promise<void> {
  await services.kv.delete(wrongKey(accountId));
}

/** A wrong code in a forgot-password recovery: its own budget; at the limit recoveries pause. */
export async function countWrongRecoveryCode(
  services: Services,
  accountId: string,
  ctx: RequestContext,
): Promise<void> {
  const pauseMs = services.config.policy.recoveryPauseHours * HOUR;
  const wrong = await services.kv.increment(recoveryWrongKey(accountId), pauseMs);
  if (wrong < services.config.policy.wrongCodesPerAccount) return;
  await services.kv.set(recoveryPausedKey(accountId), '1', pauseMs);
  services.metrics.lockout('recovery_paused');
  await services.kv.delete(recoveryWrongKey(accountId));
  await services.store.audit.record({
    accountId,
    actor: 'system',
    event: 'recovery.paused',
    at: services.clock.now(),
    ...origin(ctx),
    details: { wrongCodes: wrong, hours: services.config.policy.recoveryPauseHours },
  });
}

/** Refuses a recovery step while the account's recoveries are paused, with when to try again. */
export async function assertRecoveryOpen(services: Services, accountId: string): Promise<void> {
  const remaining = await services.kv.remainingMs(recoveryPausedKey(accountId));
  if (remaining !== undefined && remaining > 0)
    throw new AppError('RECOVERY_PAUSED', { retryAfterSeconds: seconds(remaining) });
}

/** After a password reset: the wrong-code budgets and any timed lock end with the old password. */
export async function endWrongCodeLocks(services: Services, accountId: string): Promise<void> {
  await services.kv.delete(wrongKey(accountId));
  await services.kv.delete(timedLockKey(accountId));
  await services.kv.delete(recoveryWrongKey(accountId));
}
