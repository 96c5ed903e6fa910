// What every successful recovery does (SPEC §3.7, SECURITY.md items 20 and 26): the new password
// replaces the old one, every session and trusted browser of the account ends, a locked account
// opens, and the waiting period before (re-)enabling two-step verification starts again. A recovery
// that used the recovery key spends it: a new key is issued at once and shown once.
import { randomInt } from 'node:crypto';
import { AppError } from '../../core/errors.ts';
import { checkPassword } from '../../core/password-policy.ts';
import { generateRecoveryKey } from '../../core/recovery-key.ts';
import type { Account } from '../../store/accounts.ts';
import type { Store } from '../../store/index.ts';
import { revokeAppPasswords } from '../app-passwords.ts';
import { origin, type RequestContext, type Services } from '../context.ts';
import { notifyOwner } from '../notify.ts';
import { forgivePasswordFailures } from '../password-throttle.ts';
import { requestOrigin } from '../request-origin.ts';
import { endWrongCodeLocks } from '../wrong-codes.ts';

/** Checks the new password against the policy and hashes it, before anything is written. */
export async function hashNewPassword(services: Services, account: Account, newPassword: string): Promise<string> {
  const { policy } = services.config;
  checkPassword(
    newPassword,
    { minLength: policy.passwordMinLength, maxLength: policy.passwordMaxLength },
    account,
    services.passwordChecks,
  );
  return services.hasher.hash(newPassword);
}

/** Inside the recovery's transaction: the new password and everything that must end with the old one. */
export async function applyNewPassword(
  services: Services,
  tx: Store,
  account: Account,
  passwordHash: string,
  ctx: RequestContext,
  method: 'email_link' | 'recovery_key',
): Promise<void> {
  const now = services.clock.now();
  await tx.accounts.changePassword(account.id, passwordHash, now);
  await tx.accounts.markSecurityChanged(account.id, now);
  await tx.trustedBrowsers.forgetAll(account.id);
  const sessionsRevoked = await tx.sessions.revokeAll(account.id, now);
  const unlocked = await tx.accounts.unlock(account.id, now);
  // SPEC §3.7: a reset revokes the app-specific passwords too.
  const appPasswordsRevoked = await revokeAppPasswords(tx, account.id, now);
  await tx.audit.record({
    accountId: account.id,
    actor: `account:${account.id}`,
    event: 'account.password_reset',
    at: now,
    ...origin(ctx),
    details: { method, sessionsRevoked, unlocked, appPasswordsRevoked },
  });
}

/** Spends the recovery key: a new one replaces it in the same transaction; the caller shows it once. */
export async function replaceSpentRecoveryKey(
  services: Services,
  tx: Store,
  accountId: string,
  ctx: RequestContext,
): Promise<string> {
  const key = generateRecoveryKey(randomInt);
  const now = services.clock.now();
  await tx.accounts.setRecoveryKey(accountId, await services.hasher.hash(key), now);
  await tx.audit.record({
    accountId,
    actor: `account:${accountId}`,
    event: 'recovery_key.used',
    at: now,
    ...origin(ctx),
  });
  return key;
}

/** After the commit: counters that no longer apply are cleared and the owner is told. */
export async function afterRecovery(
  services: Services,
  account: Account,
  ctx: RequestContext,
  notice: 'passwordReset' | 'recoveryKeyUsed',
): Promise<void> {
  await forgivePasswordFailures(services, account.email);
  await endWrongCodeLocks(services, account.id);
  const where = requestOrigin(ctx.ip, ctx.userAgent, services.clock.now());
  await notifyOwner(services, account, notice, { browser: where.browser, ip: where.ip, place: where.place }).catch(
    (error: unknown) => services.log.warn({ err: error, account: account.id }, 'recovery notice could not be sent'),
  );
}

/** The account a recovery belongs to, still able to use it. */
export async function recoverableAccount(services: Services, accountId: string): Promise<Account> {
  const account = await services.store.accounts.findById(accountId);
  if (!account || account.state === 'disabled') throw new AppError('RECOVERY_STEP_INVALID');
  return account;
}
