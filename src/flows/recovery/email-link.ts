// Forgot password without two-step verification (SPEC §3.7, SECURITY.md items 23–26): an emailed,
// single-use link (256-bit secret, only its hash stored, one hour, a new request kills older links,
// its host from configuration). The request answers before the account is even looked up, so neither
// its answer nor its timing says whether the email has an account. On a two-step account the email
// says how to recover with the recovery key instead: a link alone never gets past two-step verification.

import { normalizeEmail } from '../../core/account-fields.ts';
import { MINUTE } from '../../core/clock.ts';
import { AppError } from '../../core/errors.ts';
import { issueToken, sha256 } from '../../core/tokens.ts';
import { passwordResetLinkMessage, passwordResetWithKeyMessage } from '../../delivery/email/recovery-messages.ts';
import { isLocale } from '../../text/index.ts';
import { origin, type RequestContext, type Services } from '../context.ts';
import { afterRecovery, applyNewPassword, hashNewPassword, recoverableAccount } from './new-password.ts';
import { findRecovery } from './recovery-token.ts';

const REQUESTS_PER_IP_PER_HOUR = 20;
const HOUR_MS = 60 * MINUTE;

export async function requestPasswordReset(services: Services, rawEmail: string, ctx: RequestContext): Promise<void> {
  const email = normalizeEmail(rawEmail);
  const fromIp = await services.kv.increment(`reset:ip:${ctx.ip}`, HOUR_MS);
  if (fromIp > REQUESTS_PER_IP_PER_HOUR) {
    const waitMs = (await services.kv.remainingMs(`reset:ip:${ctx.ip}`)) ?? HOUR_MS;
    throw new AppError('TOO_MANY_ATTEMPTS', { retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) });
  }
  services.background.run('password-reset-request', () => sendResetEmail(services, email, ctx));
}

async function sendResetEmail(services: Services, email: string, ctx: RequestContext): Promise<void> {
  const { store, clock, config } = services;
  // One email per address per interval, whoever asks: the form cannot be used to flood a mailbox.
  const interval = config.policy.passwordResetIntervalSeconds * 1000;
  if (interval > 0 && !(await services.kv.setIfAbsent(`reset:sent:${sha256(email)}`, '1', interval))) return;
  const account = await store.accounts.findByEmail(email);
  if (!account?.email_verified_at || account.state === 'disabled') return;
  const now = clock.now();
  const to = { email: account.email, name: account.name, locale: isLocale(account.locale) ? account.locale : 'en' };
  if (account.two_step_enabled_at) {
    await store.audit.record({
      accountId: account.id,
      actor: 'system',
      event: 'password_reset.requested',
      at: now,
      ...origin(ctx),
      details: { method: 'recovery_key' },
    });
    await services.mailer.send(passwordResetWithKeyMessage(to, config.publicUrl));
    return;
  }
  const token = issueToken();
  const minutes = config.policy.passwordResetLinkMinutes;
  await store.transaction(async (tx) => {
    await tx.recoveries.start({
      id: token.id,
      accountId: account.id,
      secretHash: token.secretHash,
      method: 'email_link',
      step: 'link_sent',
      challengeId: null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + minutes * MINUTE),
    });
    await tx.audit.record({
      accountId: account.id,
      actor: 'system',
      event: 'password_reset.requested',
      at: now,
      ...origin(ctx),
      details: { method: 'email_link' },
    });
  });
  const link = `${config.publicUrl}/reset-password?token=${encodeURIComponent(token.token)}`;
  await services.mailer.send(passwordResetLinkMessage(to, link, minutes));
}

/**
 * Whether a link can still be used, for the page that asks for the new password (nothing changes).
 * Returns the account's email, for password managers to file the new password under.
 */
export async function checkResetLink(services: Services, token: string): Promise<string> {
  const recovery = await findRecovery(services, token, 'email_link');
  if (recovery.step !== 'link_sent') throw new AppError('INVALID_TOKEN');
  return (await recoverableAccount(services, recovery.accountId)).email;
}

export async function resetWithEmailLink(
  services: Services,
  input: { token: string; newPassword: string },
  ctx: RequestContext,
): Promise<void> {
  const recovery = await findRecovery(services, input.token, 'email_link');
  if (recovery.step !== 'link_sent') throw new AppError('INVALID_TOKEN');
  const account = await recoverableAccount(services, recovery.accountId);
  if (account.two_step_enabled_at) throw new AppError('RESET_NEEDS_TWO_STEP');
  const passwordHash = await hashNewPassword(services, account, input.newPassword);
  await services.store.transaction(async (tx) => {
    // Two-step verification may have been turned on since the link was sent: look again, inside the change.
    if ((await tx.accounts.findById(account.id))?.two_step_enabled_at) throw new AppError('RESET_NEEDS_TWO_STEP');
    if (!(await tx.recoveries.advance(recovery.id, 'link_sent', 'completed', services.clock.now())))
      throw new AppError('INVALID_TOKEN');
    await applyNewPassword(services, tx, account, passwordHash, ctx, 'email_link');
  });
  await afterRecovery(services, account, ctx, 'passwordReset');
}
