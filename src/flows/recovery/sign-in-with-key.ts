// Two of three at sign-in (SPEC §3.9–3.11): the password and the recovery key get the owner in
// without a trusted device, and open an account that was locked after too many wrong codes. The
// password is proved either by the pending sign-in challenge (the password step just passed) or by
// typing it with the key. A wrong key here follows a correct password, so it counts against the
// account like a wrong code: guessing the key runs into the lock. The key is spent; a new one is
// issued and shown once.
import { normalizeEmail } from '../../core/account-fields.ts';
import { AppError } from '../../core/errors.ts';
import type { Account } from '../../store/accounts.ts';
import { origin, type RequestContext, type Services } from '../context.ts';
import { claimPasswordAttempt } from '../password-throttle.ts';
import { startSession } from '../sessions.ts';
import type { SignedIn } from '../sign-in.ts';
import { countWrongCode } from '../wrong-codes.ts';
import { afterRecovery, replaceSpentRecoveryKey } from './new-password.ts';
import { checkRecoveryKey } from './recovery-key-check.ts';

export type RecoveryKeySignIn =
  | { challengeId: string; recoveryKey: string }
  | { email: string; password: string; recoveryKey: string };

export async function signInWithRecoveryKey(
  services: Services,
  input: RecoveryKeySignIn,
  ctx: RequestContext,
): Promise<SignedIn & { recoveryKey: string }> {
  const { account, challengeId } =
    'challengeId' in input
      ? await accountOfPendingSignIn(services, input.challengeId)
      : await accountByPassword(services, input, ctx);
  if (!account.two_step_enabled_at) throw new AppError('TWO_STEP_OFF');
  if (account.state === 'disabled') throw new AppError('ACCOUNT_DISABLED');
  if (!(await checkRecoveryKey(services, account.email, account, input.recoveryKey, ctx))) {
    await services.store.audit.record({
      accountId: account.id,
      actor: 'system',
      event: 'recovery.key_failed',
      at: services.clock.now(),
      ...origin(ctx),
    });
    await countWrongCode(services, account.id, ctx);
    throw new AppError('RECOVERY_KEY_WRONG');
  }
  const now = services.clock.now();
  const result = await services.store.transaction(async (tx) => {
    if (challengeId && !(await tx.challenges.cancel(challengeId, now))) throw new AppError('CHALLENGE_CLOSED');
    if (await tx.accounts.unlock(account.id, now))
      await tx.audit.record({
        accountId: account.id,
        actor: `account:${account.id}`,
        event: 'account.unlocked',
        at: now,
        ...origin(ctx),
      });
    const recoveryKey = await replaceSpentRecoveryKey(services, tx, account.id, ctx);
    const session = await startSession(services, tx, account, 'two-step', ctx);
    return { status: 'signed_in' as const, token: session.token, sessionId: session.id, account, recoveryKey };
  });
  await afterRecovery(services, account, ctx, 'recoveryKeyUsed');
  return result;
}

async function accountOfPendingSignIn(
  services: Services,
  challengeId: string,
): Promise<{ account: Account; challengeId: string }> {
  const challenge = await services.store.challenges.find(challengeId);
  if (
    challenge?.purpose !== 'sign_in' ||
    challenge.completedAt ||
    challenge.cancelledAt ||
    challenge.expiresAt <= services.clock.now()
  )
    throw new AppError('NOT_FOUND');
  const account = await services.store.accounts.findById(challenge.accountId);
  if (!account) throw new AppError('NOT_FOUND');
  return { account, challengeId };
}

async function accountByPassword(
  services: Services,
  input: { email: string; password: string },
  ctx: RequestContext,
): Promise<{ account: Account; challengeId: undefined }> {
  const attempt = await claimPasswordAttempt(services, input.email, ctx.ip);
  let email: string | undefined;
  try {
    email = normalizeEmail(input.email);
  } catch {
    email = undefined;
  }
  const account = email ? await services.store.accounts.findByEmail(email) : undefined;
  if (!(await services.hasher.verify(account?.password_hash, input.password)) || !account)
    throw new AppError('INVALID_CREDENTIALS');
  await attempt.succeeded();
  return { account, challengeId: undefined };
}
