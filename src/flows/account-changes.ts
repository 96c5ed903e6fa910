// SPEC §3.3: change the password (the current one is required, SECURITY.md item 4) and the profile:
// name, date of birth, country. On a two-step account each needs a recent two-step verification.
// Each change and its audit events commit together; a changed date of birth or country, like a new
// password, is told to the owner by email with a "This wasn't me" link. The email address has its
// own flow with a confirmation link (email-change.ts).
import { normalizeCountry, normalizeName, parseBirthDate } from '../core/account-fields.ts';
import { AppError } from '../core/errors.ts';
import { checkPassword } from '../core/password-policy.ts';
import { passwordChangedMessage, securityNoticeMessage } from '../delivery/email/messages.ts';
import type { Account } from '../store/accounts.ts';
import { isLocale, type Locale } from '../text/index.ts';
import { revokeAppPasswords } from './app-passwords.ts';
import { origin, type RequestContext, type Services } from './context.ts';
import { sendSecurityEmail } from './not-me.ts';
import { claimPasswordAttempt } from './password-throttle.ts';
import type { AuthenticatedSession } from './sessions.ts';
import { requireRecentTwoStep } from './step-up.ts';

function localeOf(account: Account): Locale {
  return isLocale(account.locale) ? account.locale : 'en';
}

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
    // SPEC §2: app-specific passwords all end with the password they stood in for.
    const appPasswordsRevoked = await revokeAppPasswords(tx, account.id, now);
    await tx.audit.record({
      accountId: account.id,
      actor: `account:${account.id}`,
      event: 'account.password_changed',
      at: now,
      ...origin(ctx),
      details: { sessionsRevoked: revoked, appPasswordsRevoked },
    });
  });
  await sendSecurityEmail(services, account.id, 'passwordChanged', (notMe) =>
    passwordChangedMessage(
      { email: account.email, name: account.name, locale: localeOf(account) },
      now,
      ctx.ip,
      services.config.publicUrl,
      notMe,
    ),
  );
}

export interface ProfileChanges {
  name?: string | undefined;
  birthDate?: string | undefined;
  country?: string | undefined;
}

/**
 * Changes any of name, date of birth and country; every field is checked (like sign-up) before
 * anything is written. Returns the account as it is now. A value equal to the current one is no change.
 */
export async function updateProfile(
  services: Services,
  auth: AuthenticatedSession,
  input: ProfileChanges,
  ctx: RequestContext,
): Promise<Account> {
  requireRecentTwoStep(services, auth);
  const { account } = auth;
  const now = services.clock.now();
  const name = input.name === undefined ? undefined : normalizeName(input.name);
  const birthDate = input.birthDate === undefined ? undefined : parseBirthDate(input.birthDate, now);
  const country = input.country === undefined ? undefined : normalizeCountry(input.country);
  const changed = {
    name: name !== undefined && name !== account.name,
    birthDate: birthDate !== undefined && birthDate !== account.birth_date,
    country: country !== undefined && country !== account.country,
  };
  const actor = `account:${account.id}`;
  await services.store.transaction(async (tx) => {
    if (name !== undefined && changed.name) {
      await tx.accounts.rename(account.id, name, now);
      await tx.audit.record({ accountId: account.id, actor, event: 'account.renamed', at: now, ...origin(ctx) });
    }
    if (birthDate !== undefined && changed.birthDate) {
      await tx.accounts.setBirthDate(account.id, birthDate, now);
      await tx.audit.record({
        accountId: account.id,
        actor,
        event: 'account.birth_date_changed',
        at: now,
        ...origin(ctx),
      });
    }
    if (country !== undefined && changed.country) {
      // Rollout eligibility follows the country (two-step and SMS availability are computed from it).
      await tx.accounts.setCountry(account.id, country, now);
      await tx.audit.record({
        accountId: account.id,
        actor,
        event: 'account.country_changed',
        at: now,
        ...origin(ctx),
        details: { from: account.country, to: country },
      });
    }
  });
  const updated: Account = {
    ...account,
    ...(changed.name && name !== undefined ? { name } : {}),
    ...(changed.birthDate && birthDate !== undefined ? { birth_date: birthDate } : {}),
    ...(changed.country && country !== undefined ? { country } : {}),
  };
  const recipient = { email: account.email, name: updated.name, locale: localeOf(account) };
  const params = { when: now.toISOString(), ip: ctx.ip };
  // The change stands even if the mail relay is down; the failure is logged, not hidden.
  const warn = (error: unknown): void =>
    services.log.warn({ err: error, account: account.id }, 'profile change notice could not be sent');
  if (changed.birthDate)
    await sendSecurityEmail(services, account.id, 'birthDateChanged', (notMe) =>
      securityNoticeMessage(recipient, 'birthDateChanged', params, services.config.publicUrl, notMe),
    ).catch(warn);
  if (changed.country)
    await sendSecurityEmail(services, account.id, 'countryChanged', (notMe) =>
      securityNoticeMessage(
        recipient,
        'countryChanged',
        { ...params, country: countryName(recipient.locale, updated.country) },
        services.config.publicUrl,
        notMe,
      ),
    ).catch(warn);
  return updated;
}

function countryName(locale: Locale, code: string): string {
  return `${new Intl.DisplayNames([locale], { type: 'region' }).of(code) ?? code} (${code})`;
}

export async function rename(
  services: Services,
  auth: AuthenticatedSession,
  rawName: string,
  ctx: RequestContext,
): Promise<string> {
  return (await updateProfile(services, auth, { name: rawName }, ctx)).name;
}
