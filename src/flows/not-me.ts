// "This wasn't me" from a security email (SPEC §3.17). Every security email carries its own
// single-use link (stored hashed, a few days); following it opens a page that says what will happen,
// and only its button (a POST with a CSRF token) acts, because mail scanners follow links. The report
// signs out every session, forgets trusted and known browsers, cancels pending challenges and email
// changes, is audited, and tells the owner to choose a new password next. Reported from the "your
// email was changed" notice (sent to the old address), it also puts the old address back: otherwise
// the password reset it points to would go to whoever took the account.
import { DAY } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import { randomToken, sha256 } from '../core/tokens.ts';
import type { EmailMessage } from '../delivery/email/mailer.ts';
import { type NotMeLink, notMeDoneMessage } from '../delivery/email/messages.ts';
import type { Account } from '../store/accounts.ts';
import type { Store } from '../store/index.ts';
import type { NotMeToken } from '../store/not-me-tokens.ts';
import { isLocale } from '../text/index.ts';
import { revokeAppPasswords } from './app-passwords.ts';
import { origin, type RequestContext, type Services } from './context.ts';

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export interface NotMeOptions {
  /** The address a report puts back (the notice of an email change, sent to the old address). */
  restoreEmail?: string;
}

/** A fresh report link for one security email about this account. */
export async function issueNotMeLink(
  services: Services,
  accountId: string,
  notice: string,
  options: NotMeOptions = {},
): Promise<NotMeLink> {
  const { config, clock, store } = services;
  const now = clock.now();
  const token = randomToken(32);
  const days = config.policy.notMeLinkDays;
  await store.notMeTokens.issue({
    tokenHash: sha256(token),
    accountId,
    notice,
    restoreEmail: options.restoreEmail,
    createdAt: now,
    expiresAt: new Date(now.getTime() + days * DAY),
  });
  // The link's host comes from configuration, never from the request (SECURITY.md item 24).
  return { link: `${config.publicUrl}/not-me?token=${token}`, days };
}

/** Sends a security email built around its own report link. */
export async function sendSecurityEmail(
  services: Services,
  accountId: string,
  notice: string,
  build: (notMe: NotMeLink) => EmailMessage,
  options: NotMeOptions = {},
): Promise<void> {
  const notMe = await issueNotMeLink(services, accountId, notice, options);
  await services.mailer.send(build(notMe));
}

/** What a link will report, for the page; INVALID_TOKEN when it is malformed, used or expired. Changes nothing. */
export async function describeNotMe(services: Services, token: string): Promise<NotMeToken> {
  if (!TOKEN_SHAPE.test(token)) throw new AppError('INVALID_TOKEN');
  const found = await services.store.notMeTokens.findLive(sha256(token), services.clock.now());
  if (!found) throw new AppError('INVALID_TOKEN');
  return found;
}

export interface NotMeReport {
  sessionsRevoked: number;
  challengesCancelled: number;
  /** The address the account has again, when the report undid an email change. */
  restoredEmail: string | undefined;
}

export async function reportNotMe(services: Services, token: string, ctx: RequestContext): Promise<NotMeReport> {
  if (!TOKEN_SHAPE.test(token)) throw new AppError('INVALID_TOKEN');
  const { store, clock, hub } = services;
  const now = clock.now();
  const outcome = await store.transaction(async (tx) => {
    const used = await tx.notMeTokens.consume(sha256(token), now);
    if (!used) throw new AppError('INVALID_TOKEN');
    const accountId = used.accountId;
    // The other report links of the account have done their job with this one.
    await tx.notMeTokens.useAll(accountId, now);
    const sessionsRevoked = await tx.sessions.revokeAll(accountId, now);
    const trustedBrowsers = await tx.trustedBrowsers.forgetAll(accountId);
    const knownBrowsers = await tx.knownBrowsers.forgetAll(accountId);
    const challenges = await tx.challenges.cancelOpen(accountId, now);
    const emailChanges = await tx.emailTokens.revokeAll(accountId, 'change_email', now);
    // Whoever did it may have made an app-specific password for a mail client of their own.
    const appPasswordsRevoked = await revokeAppPasswords(tx, accountId, now);
    const restoredEmail = await restoreEmail(tx, accountId, used.restoreEmail, now);
    await tx.audit.record({
      accountId,
      actor: `account:${accountId}`,
      event: 'account.not_me_reported',
      at: now,
      ...origin(ctx),
      details: {
        notice: used.notice,
        sessionsRevoked,
        trustedBrowsers,
        knownBrowsers,
        challengesCancelled: challenges.length,
        emailChangesCancelled: emailChanges,
        appPasswordsRevoked,
        ...(restoredEmail ? { emailRestored: restoredEmail } : {}),
      },
    });
    return { accountId, sessionsRevoked, challenges, restoredEmail };
  });
  // Devices still showing a code of a cancelled challenge put it away, and it is not delivered later.
  if (outcome.challenges.length > 0) {
    const devices = (await store.devices.listForAccount(outcome.accountId)).map((d) => d.id);
    for (const challengeId of outcome.challenges) {
      await store.devicePushes.removeForChallenge(challengeId);
      await hub.notify(devices, { type: 'cancelled', challengeId });
    }
  }
  const account = await store.accounts.findById(outcome.accountId);
  if (account) await notifyReported(services, account);
  return {
    sessionsRevoked: outcome.sessionsRevoked,
    challengesCancelled: outcome.challenges.length,
    restoredEmail: outcome.restoredEmail,
  };
}

/**
 * Puts the old address back after an email change the owner did not make, unless the account already
 * has it or another account took it since (then the address stays; the report still signs everyone out).
 */
async function restoreEmail(
  tx: Store,
  accountId: string,
  address: string | null,
  now: Date,
): Promise<string | undefined> {
  if (!address) return undefined;
  const account = await tx.accounts.findById(accountId);
  if (!account || account.email === address) return undefined;
  if (!(await tx.accounts.changeEmail(accountId, address, now))) return undefined;
  await tx.accounts.markSecurityChanged(accountId, now);
  return address;
}

async function notifyReported(services: Services, account: Account): Promise<void> {
  const locale = isLocale(account.locale) ? account.locale : 'en';
  // The account is already secured; a mail relay that is down must not turn that into an error page.
  await services.mailer
    .send(notMeDoneMessage({ email: account.email, name: account.name, locale }, services.config.publicUrl))
    .catch((error: unknown) =>
      services.log.warn({ err: error, account: account.id }, '"this wasn\'t me" confirmation could not be sent'),
    );
}
