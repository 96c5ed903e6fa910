// Forgot password with two-step verification (SPEC §3.7, SECURITY.md items 22 and 25): the recovery
// key **and** a code from a trusted device or phone, then the new password. Each step moves the
// persisted recovery forward by compare-and-set (key_verified → code_verified → completed), so a
// step cannot be skipped, reordered or replayed, on any node. The date of birth is never asked.

import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { normalizeEmail } from '../../core/account-fields.ts';
import { MINUTE } from '../../core/clock.ts';
import { AppError } from '../../core/errors.ts';
import { issueToken } from '../../core/tokens.ts';
import {
  answerChallenge,
  type ChallengeAnswer,
  type IssuedChallenge,
  onChallengeCompleted,
  openChallenge,
} from '../challenges.ts';
import '../channels/all.ts';
import { type Channel, listChannels } from '../channels/index.ts';
import { origin, type RequestContext, type Services } from '../context.ts';
import { securityKeyOptionsFor } from '../security-key-proof.ts';
import { assertRecoveryOpen } from '../wrong-codes.ts';
import {
  afterRecovery,
  applyNewPassword,
  hashNewPassword,
  recoverableAccount,
  replaceSpentRecoveryKey,
} from './new-password.ts';
import { checkRecoveryKey } from './recovery-key-check.ts';
import { findRecovery } from './recovery-token.ts';

export interface KeyRecoveryStarted {
  /** Held by the client for the next steps; shown nowhere else. */
  token: string;
  challenge: IssuedChallenge & { channels: Channel[] };
}

export async function startKeyRecovery(
  services: Services,
  input: { email: string; recoveryKey: string },
  ctx: RequestContext,
): Promise<KeyRecoveryStarted> {
  const email = normalizeEmail(input.email);
  const account = await services.store.accounts.findByEmail(email);
  const keyOk = await checkRecoveryKey(services, email, account, input.recoveryKey, ctx);
  const now = services.clock.now();
  if (!keyOk || !account) {
    if (account)
      await services.store.audit.record({
        accountId: account.id,
        actor: 'system',
        event: 'recovery.key_failed',
        at: now,
        ...origin(ctx),
      });
    throw new AppError('RECOVERY_KEY_WRONG');
  }
  if (account.state === 'disabled') throw new AppError('ACCOUNT_DISABLED');
  // Only someone with the key learns that its recoveries are paused.
  await assertRecoveryOpen(services, account.id);
  const token = issueToken();
  const challenge = await openChallenge(
    services,
    { accountId: account.id, purpose: 'recovery', subject: token.id },
    ctx,
  );
  await services.store.transaction(async (tx) => {
    await tx.recoveries.start({
      id: token.id,
      accountId: account.id,
      secretHash: token.secretHash,
      method: 'recovery_key',
      step: 'key_verified',
      challengeId: challenge.id,
      createdAt: now,
      expiresAt: new Date(now.getTime() + services.config.policy.recoveryMinutes * MINUTE),
    });
    await tx.audit.record({
      accountId: account.id,
      actor: 'system',
      event: 'recovery.key_accepted',
      at: now,
      ...origin(ctx),
    });
  });
  return { token: token.token, challenge: { ...challenge, channels: await listChannels(services, account.id) } };
}

// The code completes only a recovery that is waiting for it; anything else rolls the answer back.
onChallengeCompleted('recovery', async (services, tx, challenge) => {
  if (!(await tx.recoveries.advance(challenge.subject ?? '', 'key_verified', 'code_verified', services.clock.now())))
    throw new AppError('RECOVERY_STEP_INVALID');
});

/** The recovery's open code challenge, for sending its code; only while the recovery waits for the code. */
export async function recoveryChallengeId(services: Services, token: string): Promise<string> {
  const recovery = await findRecovery(services, token, 'recovery_key');
  if (recovery.step !== 'key_verified' || !recovery.challengeId) throw new AppError('RECOVERY_STEP_INVALID');
  await assertRecoveryOpen(services, recovery.accountId);
  return recovery.challengeId;
}

export async function verifyRecoveryCode(
  services: Services,
  input: { token: string; answer: ChallengeAnswer },
  ctx: RequestContext,
): Promise<void> {
  const recovery = await findRecovery(services, input.token, 'recovery_key');
  if (recovery.step !== 'key_verified' || !recovery.challengeId) throw new AppError('RECOVERY_STEP_INVALID');
  await answerChallenge(services, recovery.accountId, recovery.challengeId, input.answer, ctx);
}

/** WebAuthn options to answer the recovery's code step with a security key instead of a code. */
export async function recoverySecurityKeyOptions(
  services: Services,
  token: string,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const recovery = await findRecovery(services, token, 'recovery_key');
  const challenge = recovery.challengeId ? await services.store.challenges.find(recovery.challengeId) : undefined;
  if (recovery.step !== 'key_verified' || !challenge) throw new AppError('RECOVERY_STEP_INVALID');
  return securityKeyOptionsFor(services, challenge);
}

/** The account's email when the recovery is ready for its new password (for the page that asks for it). */
export async function recoveryAwaitsPassword(services: Services, token: string): Promise<string | undefined> {
  const recovery = await findRecovery(services, token, 'recovery_key');
  if (recovery.step !== 'code_verified') return undefined;
  return (await recoverableAccount(services, recovery.accountId)).email;
}

/** The last step: the new password; the spent recovery key is replaced and the new one returned, to be shown once. */
export async function finishKeyRecovery(
  services: Services,
  input: { token: string; newPassword: string },
  ctx: RequestContext,
): Promise<{ recoveryKey: string }> {
  const recovery = await findRecovery(services, input.token, 'recovery_key');
  if (recovery.step !== 'code_verified') throw new AppError('RECOVERY_STEP_INVALID');
  const account = await recoverableAccount(services, recovery.accountId);
  const passwordHash = await hashNewPassword(services, account, input.newPassword);
  const recoveryKey = await services.store.transaction(async (tx) => {
    if (!(await tx.recoveries.advance(recovery.id, 'code_verified', 'completed', services.clock.now())))
      throw new AppError('RECOVERY_STEP_INVALID');
    await applyNewPassword(services, tx, account, passwordHash, ctx, 'recovery_key');
    return replaceSpentRecoveryKey(services, tx, account.id, ctx);
  });
  await afterRecovery(services, account, ctx, 'passwordReset');
  return { recoveryKey };
}
