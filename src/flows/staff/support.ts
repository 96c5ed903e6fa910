// What support can do for a customer (SPEC §3.15, SECURITY.md item 38). Staff see a limited profile:
// no password, code, recovery key or factor secret, phone numbers masked. On an account *without*
// two-step verification support may send the same single-use reset link the owner could ask for, end
// a timed password delay, and sign the account out everywhere. On an account *with* two-step
// verification every takeover action (reset, unlock) is refused with SUPPORT_RESET_FORBIDDEN: only
// two of password, trusted device and recovery key get an owner back in, and a phone call proves
// none of them (docs/recovery.md). There is deliberately no way for staff to set a password, change
// the email, add or remove a factor, turn two-step verification off, or see a secret.
//
// Every action, refused ones included, is an audit event naming the staff member, shown to the owner
// in "Recent activity", and emailed: an owner who never called support learns that someone did.
import { DAY, MINUTE } from '../../core/clock.ts';
import { AppError } from '../../core/errors.ts';
import { issueToken, sha256 } from '../../core/tokens.ts';
import type { SecurityNotice } from '../../delivery/email/messages.ts';
import { supportResetLinkMessage } from '../../delivery/email/staff-messages.ts';
import type { Account } from '../../store/accounts.ts';
import { isLocale } from '../../text/index.ts';
import { origin, type RequestContext, type Services } from '../context.ts';
import { notifyOwner } from '../notify.ts';
import { forgivePasswordFailures, passwordDelayRemainingMs } from '../password-throttle.ts';
import { type StaffAuth, staffActor } from './staff-sessions.ts';

const SEARCH_LIMIT = 20;
const ACTIVITY_LIMIT = 30;

export interface AccountSummary {
  id: string;
  email: string;
  name: string;
  state: Account['state'];
  twoStep: boolean;
}

export interface AccountProfile extends AccountSummary {
  country: string;
  locale: string;
  emailVerified: boolean;
  createdAt: Date;
  twoStepSince: Date | null;
  recoveryKey: boolean;
  /** Seconds left of a timed password delay (accounts without 2SV unlock after it, or by support). */
  passwordDelaySeconds: number;
  devices: { name: string; model: string; trusted: boolean; lastSeenAt: Date | null }[];
  phones: { number: string; verified: boolean }[];
  /** Confirmed authenticator apps (TOTP): how many, never their secret. */
  authenticatorApps: number;
  /** Security keys and passkeys: names and dates, never a key. */
  securityKeys: { name: string; passkey: boolean; createdAt: Date; lastUsedAt: Date | null }[];
  sessions: { createdAt: Date; lastSeenAt: Date; ip: string | null; userAgent: string | null }[];
  activity: { event: string; actor: string; at: Date; ip: string | null }[];
}

function summary(account: Account): AccountSummary {
  return {
    id: account.id,
    email: account.email,
    name: account.name,
    state: account.state,
    twoStep: account.two_step_enabled_at !== null,
  };
}

/** Only the last two digits: enough for the owner to say which phone, useless to anyone else. */
export function maskPhone(e164: string): string {
  return `•••• ${e164.slice(-2)}`;
}

export async function searchAccounts(services: Services, rawQuery: string): Promise<AccountSummary[]> {
  const query = rawQuery.trim();
  if (query.length === 0) return [];
  if (query.length > 320 || /\p{C}/u.test(query)) throw new AppError('VALIDATION_FAILED', { detail: { field: 'q' } });
  return (await services.store.console.searchAccounts(query, SEARCH_LIMIT)).map(summary);
}

async function findAccount(services: Services, id: string): Promise<Account> {
  const account = /^[A-Za-z0-9_-]{1,64}$/.test(id) ? await services.store.accounts.findById(id) : undefined;
  if (!account) throw new AppError('NOT_FOUND');
  return account;
}

/**
 * The profile as staff see it. Opening it is recorded (at most once an hour per member and account)
 * and emailed at most once a day per member and account: the owner learns that someone from support
 * looked, without an email for every click of an agent working through their case.
 */
export async function accountProfile(
  services: Services,
  staff: StaffAuth,
  accountId: string,
  ctx: RequestContext,
): Promise<AccountProfile> {
  const { store, clock } = services;
  const account = await findAccount(services, accountId);
  const now = clock.now();
  if (await services.kv.setIfAbsent(`staff-viewed:${staff.member.id}:${account.id}`, '1', 60 * MINUTE)) {
    await store.audit.record({
      accountId: account.id,
      actor: staffActor(staff.member),
      event: 'support.account_viewed',
      at: now,
      ...origin(ctx),
    });
  }
  if (await services.kv.setIfAbsent(`staff-viewed-mail:${staff.member.id}:${account.id}`, '1', DAY)) {
    await notify(services, staff, account, 'supportViewed');
  }
  const [devices, phones, apps, keys, sessions, activity, delayMs] = await Promise.all([
    store.devices.listForAccount(account.id),
    store.phones.listForAccount(account.id),
    store.authenticators.listForAccount(account.id),
    store.securityKeys.listForAccount(account.id),
    store.sessions.listActive(account.id),
    store.audit.listForAccount(account.id, { limit: ACTIVITY_LIMIT }),
    passwordDelayRemainingMs(services, account.email),
  ]);
  return {
    ...summary(account),
    country: account.country,
    locale: account.locale,
    emailVerified: account.email_verified_at !== null,
    createdAt: account.created_at,
    twoStepSince: account.two_step_enabled_at,
    recoveryKey: account.recovery_key_hash !== null,
    passwordDelaySeconds: Math.ceil(delayMs / 1000),
    devices: devices.map((d) => ({
      name: d.name,
      model: d.model,
      trusted: d.trustedAt !== null,
      lastSeenAt: d.lastSeenAt,
    })),
    phones: phones.map((p) => ({ number: maskPhone(p.e164), verified: p.verifiedAt !== null })),
    authenticatorApps: apps.filter((a) => a.confirmedAt).length,
    securityKeys: keys.map((k) => ({
      name: k.name,
      passkey: k.passkey,
      createdAt: k.createdAt,
      lastUsedAt: k.lastUsedAt,
    })),
    sessions: sessions.map((s) => ({
      createdAt: s.created_at,
      lastSeenAt: s.last_seen_at,
      ip: s.ip,
      userAgent: s.user_agent,
    })),
    activity: activity.map((e) => ({ event: e.event, actor: e.actor, at: e.at, ip: e.ip })),
  };
}

export type SupportAction = 'reset_link' | 'unlock' | 'revoke_sessions';

/** The email names the staff member by name, never by email address (flows/activity.ts says why). */
async function notify(services: Services, staff: StaffAuth, account: Account, notice: SecurityNotice): Promise<void> {
  // The action stands whether or not the email goes out; a failed delivery is logged, not thrown at the agent.
  try {
    await notifyOwner(services, account, notice, {
      when: services.clock.now().toISOString(),
      staff: staff.member.name,
    });
  } catch (error) {
    services.log.warn({ err: error, account: account.id, notice }, 'support notice not delivered');
  }
}

/**
 * Refuses a takeover action on an account with two-step verification: recorded, the owner told,
 * and SUPPORT_RESET_FORBIDDEN thrown. The console shows the agent the two-of-three rule to read out.
 */
async function refuseOnTwoStep(
  services: Services,
  staff: StaffAuth,
  account: Account,
  action: SupportAction,
  ctx: RequestContext,
): Promise<void> {
  if (account.two_step_enabled_at === null) return;
  await services.store.audit.record({
    accountId: account.id,
    actor: staffActor(staff.member),
    event: 'support.action_refused',
    at: services.clock.now(),
    ...origin(ctx),
    details: { action, reason: 'two_step' },
  });
  await notify(services, staff, account, 'supportRefused');
  throw new AppError('SUPPORT_RESET_FORBIDDEN');
}

/**
 * Emails the owner the single-use reset link (the same link and rules as "forgot password"; the email
 * says support sent it). Support never sets or sees a password. Refused on a 2SV account.
 */
export async function sendResetLinkBySupport(
  services: Services,
  staff: StaffAuth,
  accountId: string,
  ctx: RequestContext,
): Promise<void> {
  const { store, clock, config } = services;
  const account = await findAccount(services, accountId);
  await refuseOnTwoStep(services, staff, account, 'reset_link', ctx);
  if (account.state === 'disabled') throw new AppError('ACCOUNT_DISABLED');
  if (!account.email_verified_at) throw new AppError('EMAIL_NOT_VERIFIED');
  // The same one-email-per-interval rule as "forgot password", shared with it: support cannot flood a mailbox either.
  const interval = config.policy.passwordResetIntervalSeconds * 1000;
  if (interval > 0 && !(await services.kv.setIfAbsent(`reset:sent:${sha256(account.email)}`, '1', interval))) {
    const waitMs = (await services.kv.remainingMs(`reset:sent:${sha256(account.email)}`)) ?? interval;
    throw new AppError('TOO_MANY_ATTEMPTS', { retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) });
  }
  const token = issueToken();
  const minutes = config.policy.passwordResetLinkMinutes;
  const now = clock.now();
  await store.transaction(async (tx) => {
    // Two-step verification may have been turned on a moment ago: look again inside the change.
    // (The link would be refused anyway: a reset link never works on a 2SV account.)
    if ((await tx.accounts.findById(account.id))?.two_step_enabled_at) throw new AppError('SUPPORT_RESET_FORBIDDEN');
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
      actor: staffActor(staff.member),
      event: 'support.reset_link_sent',
      at: now,
      ...origin(ctx),
      details: { minutes },
    });
  });
  const link = `${config.publicUrl}/reset-password?token=${encodeURIComponent(token.token)}`;
  const locale = isLocale(account.locale) ? account.locale : 'en';
  await services.mailer.send(
    supportResetLinkMessage({ email: account.email, name: account.name, locale }, staff.member.name, link, minutes),
  );
}

/**
 * Ends a timed password delay on an account without 2SV (SPEC §3.11: such an account unlocks after
 * the delay or a reset anyway). On a 2SV account both the lock and the delays protect factors the
 * caller has not proved, so it is refused. Returns whether a delay was running.
 */
export async function unlockBySupport(
  services: Services,
  staff: StaffAuth,
  accountId: string,
  ctx: RequestContext,
): Promise<{ hadDelay: boolean }> {
  const account = await findAccount(services, accountId);
  await refuseOnTwoStep(services, staff, account, 'unlock', ctx);
  // A 'locked' state belongs to two-step verification; without it there is nothing but the delay.
  if (account.state === 'locked') throw new AppError('SUPPORT_RESET_FORBIDDEN');
  const hadDelay = (await passwordDelayRemainingMs(services, account.email)) > 0;
  await forgivePasswordFailures(services, account.email);
  await services.store.audit.record({
    accountId: account.id,
    actor: staffActor(staff.member),
    event: 'support.unlocked',
    at: services.clock.now(),
    ...origin(ctx),
    details: { hadDelay },
  });
  await notify(services, staff, account, 'supportUnlocked');
  return { hadDelay };
}

/**
 * Signs the account out everywhere. Not a takeover (it gives nobody access, the owner signs in again
 * with the same factors), so it is allowed on every account, e.g. for an owner who lost a laptop.
 */
export async function revokeSessionsBySupport(
  services: Services,
  staff: StaffAuth,
  accountId: string,
  ctx: RequestContext,
): Promise<{ revoked: number }> {
  const account = await findAccount(services, accountId);
  const now = services.clock.now();
  const revoked = await services.store.transaction(async (tx) => {
    const count = await tx.sessions.revokeAll(account.id, now);
    await tx.audit.record({
      accountId: account.id,
      actor: staffActor(staff.member),
      event: 'support.sessions_revoked',
      at: now,
      ...origin(ctx),
      details: { sessionsRevoked: count },
    });
    return count;
  });
  await notify(services, staff, account, 'supportSessionsRevoked');
  return { revoked };
}
