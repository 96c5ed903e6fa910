// SPEC §3.3: change the email address. The current password and (on a two-step account) a recent
// two-step verification are required; the new address must prove it is reachable: a single-use link
// goes to it (stored hashed, like verify-email.ts) and the change takes effect only when the link is
// followed. The old address is told when the change is asked for and when it is done, each time with
// a "This wasn't me" link.
//
// No enumeration (SECURITY.md item 35): an address that already belongs to another account gets the
// same answer as any other. Nothing changes; that address's owner gets a "someone tried to use your
// address" email instead of a link, and the requester learns nothing they could not learn by owning
// the mailbox. Only someone who opens the link (so holds the mailbox) can ever see EMAIL_TAKEN, when
// the address was taken between the request and the confirmation.
import { normalizeEmail } from '../core/account-fields.ts';
import { HOUR } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import { randomToken, sha256 } from '../core/tokens.ts';
import { changeEmailVerifyMessage, emailInUseMessage, securityNoticeMessage } from '../delivery/email/messages.ts';
import type { Account } from '../store/accounts.ts';
import { isLocale, type Locale } from '../text/index.ts';
import { origin, type RequestContext, type Services } from './context.ts';
import { sendSecurityEmail } from './not-me.ts';
import { claimPasswordAttempt } from './password-throttle.ts';
import type { AuthenticatedSession } from './sessions.ts';
import { requireRecentTwoStep } from './step-up.ts';

/** Each request sends an email to an address the requester chose: a few an hour, so nobody is flooded. */
const REQUESTS_PER_HOUR = 5;

function localeOf(account: Pick<Account, 'locale'>): Locale {
  return isLocale(account.locale) ? account.locale : 'en';
}

export async function requestEmailChange(
  services: Services,
  auth: AuthenticatedSession,
  input: { newEmail: string; currentPassword: string },
  ctx: RequestContext,
): Promise<void> {
  const { account } = auth;
  const { config, store, clock, kv } = services;
  requireRecentTwoStep(services, auth);
  // Normalized like sign-up: one mailbox, one account.
  const newEmail = normalizeEmail(input.newEmail);
  if (newEmail === account.email) throw new AppError('EMAIL_UNCHANGED');
  // The same budget as sign-in: a stolen session must not become an unthrottled password oracle.
  const attempt = await claimPasswordAttempt(services, account.email, ctx.ip);
  if (!(await services.hasher.verify(account.password_hash, input.currentPassword)))
    throw new AppError('CURRENT_PASSWORD_WRONG');
  await attempt.succeeded();
  const key = `email-change:${account.id}`;
  if ((await kv.increment(key, HOUR)) > REQUESTS_PER_HOUR) {
    const waitMs = (await kv.remainingMs(key)) ?? HOUR;
    throw new AppError('TOO_MANY_ATTEMPTS', { retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) });
  }

  const now = clock.now();
  const owner = await store.accounts.findByEmail(newEmail);
  const token = randomToken(32);
  await store.transaction(async (tx) => {
    // A newer request replaces an older pending one: only the latest link works.
    if (!owner)
      await tx.emailTokens.issue({
        tokenHash: sha256(token),
        accountId: account.id,
        purpose: 'change_email',
        createdAt: now,
        expiresAt: new Date(now.getTime() + config.policy.emailTokenHours * HOUR),
        newEmail,
      });
    // The same event either way: the requester can read the activity list.
    await tx.audit.record({
      accountId: account.id,
      actor: `account:${account.id}`,
      event: 'account.email_change_requested',
      at: now,
      ...origin(ctx),
    });
  });
  if (owner) {
    await services.mailer.send(
      emailInUseMessage({ email: owner.email, name: owner.name, locale: localeOf(owner) }, config.publicUrl),
    );
  } else {
    // The link's host comes from configuration, never from the request (SECURITY.md item 24).
    const link = `${config.publicUrl}/confirm-email-change?token=${token}`;
    await services.mailer.send(
      changeEmailVerifyMessage(
        { email: newEmail, name: account.name, locale: localeOf(account) },
        link,
        config.policy.emailTokenHours,
      ),
    );
  }
  await sendSecurityEmail(services, account.id, 'emailChangeRequested', (notMe) =>
    securityNoticeMessage(
      { email: account.email, name: account.name, locale: localeOf(account) },
      'emailChangeRequested',
      { newEmail, when: now.toISOString(), ip: ctx.ip },
      config.publicUrl,
      notMe,
    ),
  );
}

const UNIQUE_VIOLATION = '23505';

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === UNIQUE_VIOLATION;
}

/** The emailed link was followed (and its button pressed): the account moves to the new address. */
export async function confirmEmailChange(
  services: Services,
  token: string,
  ctx: RequestContext,
): Promise<{ email: string }> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw new AppError('INVALID_TOKEN');
  const { store, clock } = services;
  const now = clock.now();
  let changed: { before: Account; email: string };
  try {
    changed = await store.transaction(async (tx) => {
      const pending = await tx.emailTokens.consumeEmailChange(sha256(token), now);
      if (!pending) throw new AppError('INVALID_TOKEN');
      const before = await tx.accounts.findById(pending.accountId);
      if (!before || before.state === 'disabled') throw new AppError('INVALID_TOKEN');
      if (!(await tx.accounts.changeEmail(before.id, pending.newEmail, now))) throw new AppError('EMAIL_TAKEN');
      // Whoever holds the email can start a password reset of an account without two-step
      // verification: a new address is a security change, and starts the waiting period (SPEC §3.4).
      await tx.accounts.markSecurityChanged(before.id, now);
      await tx.audit.record({
        accountId: before.id,
        actor: `account:${before.id}`,
        event: 'account.email_changed',
        at: now,
        ...origin(ctx),
        details: { from: before.email, to: pending.newEmail },
      });
      return { before, email: pending.newEmail };
    });
  } catch (error) {
    // A sign-up took the address between our check and the update: the unique index said no.
    if (isUniqueViolation(error)) throw new AppError('EMAIL_TAKEN');
    throw error;
  }
  const { before, email } = changed;
  // The old address hears of it, with a link that signs everyone out and puts the old address back.
  await sendSecurityEmail(
    services,
    before.id,
    'emailChanged',
    (notMe) =>
      securityNoticeMessage(
        { email: before.email, name: before.name, locale: localeOf(before) },
        'emailChanged',
        { newEmail: email, when: now.toISOString() },
        services.config.publicUrl,
        notMe,
      ),
    { restoreEmail: before.email },
  ).catch((error: unknown) =>
    services.log.warn({ err: error, account: before.id }, 'email-changed notice could not be sent'),
  );
  return { email };
}
