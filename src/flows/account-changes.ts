// SPEC §3.3 for an account without two-step verification: change the password (the current one is
// required, SECURITY.md item 4) and the name. Each change and its audit event commit together.
import { normalizeName } from '../core/account-fields.ts';
import { AppError } from '../core/errors.ts';
import { checkPassword } from '../core/password-policy.ts';
import { passwordChangedMessage } from '../delivery/email/messages.ts';
import { isLocale } from '../text/index.ts';
import { origin, type RequestContext, type Services } from './context.ts';
import { claimPasswordAttempt } from './password-throttle.ts';
import type { AuthenticatedSession } from './sessions.ts';
import { requireRecentTwoStep } from './step-up.ts';

export async function changePassword(
  services: Services,
  auth: AuthenticatedSession,
  input: { currentPassword: string; newPassword: string },
  ctx: RequestContext,
): Promise<void> {
  const { account } = auth;
  requireRecentTwoStep(services, auth);
  // The current password is guessed through the same budget as sign-in: a stolen session must not
  // become an unthrottled password oracle.
  const attempt = await claimPasswordAttempt(services, account.email, ctx.ip);
  if (!(await services.hasher.verify(account.password_hash, input.currentPassword))) {
    throw new AppError('CURRENT_PASSWORD_WRONG');
  }
  await attempt.succeeded();
  if (input.currentPassword.normalize('NFKC') === input.newPassword.normalize('NFKC'))
    throw new AppError('PASSWORD_REUSED');
  const { policy } = services.config;
  checkPassword(
    input.newPassword,
    { minLength: policy.passwordMinLength, maxLength: policy.passwordMaxLength },
    account,
    services.passwordChecks,
  );
  const hash = await services.hasher.hash(input.newPassword);
  const now = services.clock.now();
  await services.store.transaction(async (tx) => {
    await tx.accounts.changePassword(account.id, hash, now);
    // A new password is a security change: it starts the waiting period and forgets trusted browsers.
    await tx.accounts.markSecurityChanged(account.id, now);
    await tx.trustedBrowsers.forgetAll(account.id);
    // Whoever else holds a session may be the reason for the change: they are signed out.
    const revoked = await tx.sessions.revokeAll(account.id, now, { keepId: auth.session.id });
    await tx.audit.record({
      accountId: account.id,
      actor: `account:${account.id}`,
      event: 'account.password_changed',
      at: now,
      ...origin(ctx),
      details: { sessionsRevoked: revoked },
    });
  });
  const locale = isLocale(account.locale) ? account.locale : 'en';
  await services.mailer.send(
    passwordChangedMessage(
      { email: account.email, name: account.name, locale },
      now,
      ctx.ip,
      services.config.publicUrl,
    ),
  );
}

export async function rename(
  services: Services,
  auth: AuthenticatedSession,
  rawName: string,
  ctx: RequestContext,
): Promise<string> {
  requireRecentTwoStep(services, auth);
  const name = normalizeName(rawName);
  const now = services.clock.now();
  await services.store.transaction(async (tx) => {
    await tx.accounts.rename(auth.account.id, name, now);
    await tx.audit.record({
      accountId: auth.account.id,
      actor: `account:${auth.account.id}`,
      event: 'account.renamed',
      at: now,
      ...origin(ctx),
    });
  });
  return name;
}
