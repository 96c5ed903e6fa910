// Turning two-step verification on and off (SPEC §3.4, §3.12). Eligibility: the country has it in the
// rollout, and no password reset or security change in the waiting period. Then at least one trusted
// device or verified phone, a recovery key shown once and typed back, and the acknowledgement of the
// conditions (two of three; support cannot reset; legacy clients need app-specific passwords).
import { randomInt } from 'node:crypto';
import { DAY, HOUR } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import { generateRecoveryKey, normalizeRecoveryKey } from '../core/recovery-key.ts';
import { twoStepChangedMessage } from '../delivery/email/messages.ts';
import type { Account } from '../store/accounts.ts';
import { isLocale } from '../text/index.ts';
import { revokeAppPasswords } from './app-passwords.ts';
import { origin, type RequestContext, type Services } from './context.ts';
import { sendSecurityEmail } from './not-me.ts';
import { notifyOwner } from './notify.ts';
import { usableSecurityKeys } from './security-key-proof.ts';
import type { AuthenticatedSession } from './sessions.ts';
import { requireRecentTwoStep } from './step-up.ts';

export interface TwoStepStatus {
  enabled: boolean;
  available: boolean;
  smsAvailable: boolean;
  /** When the waiting period after a security change ends, if it has not. */
  waitingUntil: Date | null;
  trustedDevices: number;
  verifiedPhones: number;
  /** Confirmed authenticator apps (TOTP): a trusted factor that needs no SMS. */
  authenticators: number;
  /** Security keys and passkeys that can answer a second step (WebAuthn). */
  securityKeys: number;
  recoveryKeyConfirmed: boolean;
  /** Everything is in place to turn it on. */
  ready: boolean;
}

const PENDING_KEY_TTL_MS = HOUR;

export async function twoStepStatus(services: Services, account: Account): Promise<TwoStepStatus> {
  const rollout = await services.store.rollout.get(account.country);
  const changed = account.security_changed_at?.getTime() ?? 0;
  const waitEnd = changed + services.config.policy.waitingPeriodDays * DAY;
  const waitingUntil = waitEnd > services.clock.now().getTime() ? new Date(waitEnd) : null;
  const trustedDevices = (await services.store.devices.listForAccount(account.id)).filter((d) => d.trustedAt).length;
  const verifiedPhones = (await services.store.phones.listForAccount(account.id)).filter((p) => p.verifiedAt).length;
  const authenticators = (await services.store.authenticators.listForAccount(account.id)).filter(
    (a) => a.confirmedAt,
  ).length;
  const securityKeys = (await usableSecurityKeys(services, account.id)).length;
  const recoveryKeyConfirmed = account.recovery_key_hash !== null;
  return {
    enabled: account.two_step_enabled_at !== null,
    available: rollout.twoStep,
    smsAvailable: rollout.sms && services.sms !== undefined,
    waitingUntil,
    trustedDevices,
    verifiedPhones,
    authenticators,
    securityKeys,
    recoveryKeyConfirmed,
    ready:
      rollout.twoStep &&
      !waitingUntil &&
      trustedDevices + verifiedPhones + authenticators + securityKeys > 0 &&
      recoveryKeyConfirmed,
  };
}

async function assertEligible(services: Services, accountId: string, status: TwoStepStatus): Promise<void> {
  if (status.enabled) throw new AppError('TWO_STEP_ALREADY_ON');
  if (!status.available) throw new AppError('TWO_STEP_NOT_AVAILABLE');
  if (status.waitingUntil) {
    // They tried during the wait: an email tells them when it is over (sendEndedWaitingNotices).
    await services.store.accounts.requestWaitingNotice(accountId, services.clock.now());
    throw new AppError('TWO_STEP_WAITING_PERIOD', {
      detail: { days: services.config.policy.waitingPeriodDays, until: status.waitingUntil.toISOString() },
    });
  }
}

/** Emails every owner whose waiting period has ended and who asked to know; each once. Run periodically. */
export async function sendEndedWaitingNotices(services: Services): Promise<number> {
  const now = services.clock.now();
  const changedBefore = new Date(now.getTime() - services.config.policy.waitingPeriodDays * DAY);
  const accounts = await services.store.accounts.claimWaitingNotices(changedBefore, now, 100);
  for (const account of accounts) {
    await notifyOwner(services, account, 'waitingPeriodOver', {
      url: `${services.config.publicUrl}/account/two-step`,
    }).catch((error: unknown) =>
      services.log.warn({ err: error, account: account.id }, 'waiting-period notice could not be sent'),
    );
  }
  return accounts.length;
}

/**
 * A new recovery key, shown once. During enrolment it takes effect only when typed back
 * (confirmRecoveryKey); until then only its hash waits in the key-value store, for an hour.
 * "Replace lost key" on an account with two-step verification (a session opened with the password,
 * plus a code within the last minutes) is different: the old key dies at once, since it may be in
 * someone else's hands; typing the new one back only checks it was written down right.
 */
export async function createRecoveryKey(
  services: Services,
  auth: AuthenticatedSession,
  ctx: RequestContext,
): Promise<string> {
  if (auth.account.two_step_enabled_at) requireRecentTwoStep(services, auth);
  else await assertEligible(services, auth.account.id, await twoStepStatus(services, auth.account));
  const key = generateRecoveryKey(randomInt);
  const hash = await services.hasher.hash(key);
  await services.kv.set(`recovery-key:pending:${auth.account.id}`, hash, PENDING_KEY_TTL_MS);
  if (auth.account.two_step_enabled_at) {
    const now = services.clock.now();
    await services.store.transaction(async (tx) => {
      await tx.accounts.setRecoveryKey(auth.account.id, hash, now);
      await tx.audit.record({
        accountId: auth.account.id,
        actor: `account:${auth.account.id}`,
        event: 'recovery_key.replaced',
        at: now,
        ...origin(ctx),
      });
    });
    await notifyOwner(services, auth.account, 'recoveryKeyReplaced', {});
  }
  return key;
}

export async function confirmRecoveryKey(
  services: Services,
  auth: AuthenticatedSession,
  typed: string,
  ctx: RequestContext,
): Promise<void> {
  const input = normalizeRecoveryKey(typed);
  if (!input.ok) throw new AppError('RECOVERY_KEY_MISTYPED');
  const pendingKey = `recovery-key:pending:${auth.account.id}`;
  const pendingHash = await services.kv.get(pendingKey);
  if (!pendingHash || !(await services.hasher.verify(pendingHash, input.key))) throw new AppError('RECOVERY_KEY_WRONG');
  if ((await services.kv.take(pendingKey)) === undefined) throw new AppError('RECOVERY_KEY_WRONG');
  // A replacement already took effect when it was made (createRecoveryKey): nothing more to store.
  if (auth.account.two_step_enabled_at) return;
  const now = services.clock.now();
  await services.store.transaction(async (tx) => {
    await tx.accounts.setRecoveryKey(auth.account.id, pendingHash, now);
    await tx.audit.record({
      accountId: auth.account.id,
      actor: `account:${auth.account.id}`,
      event: 'recovery_key.created',
      at: now,
      ...origin(ctx),
    });
  });
}

export async function enableTwoStep(
  services: Services,
  auth: AuthenticatedSession,
  acknowledged: boolean,
  ctx: RequestContext,
): Promise<void> {
  const account = (await services.store.accounts.findById(auth.account.id)) ?? auth.account;
  const status = await twoStepStatus(services, account);
  await assertEligible(services, account.id, status);
  if (!status.ready) throw new AppError('TWO_STEP_NOT_READY');
  if (!acknowledged) throw new AppError('ACKNOWLEDGEMENT_REQUIRED');
  const now = services.clock.now();
  await services.store.transaction(async (tx) => {
    // Under the account's row lock, as every removal of a factor (second-steps.ts): a factor removed
    // while 2SV was still off, between the check above and now, is seen here.
    const locked = await tx.accounts.lockForUpdate(account.id);
    if (!locked || locked.two_step_enabled_at) throw new AppError('TWO_STEP_ALREADY_ON');
    if (!(await twoStepStatus({ ...services, store: tx }, locked)).ready) throw new AppError('TWO_STEP_NOT_READY');
    await tx.accounts.enableTwoStep(account.id, now);
    // Enrolment proved the second factor just now: this session counts as verified.
    await tx.sessions.markTwoStepVerified(auth.account.id, auth.session.id, now);
    await tx.audit.record({
      accountId: account.id,
      actor: `account:${account.id}`,
      event: 'two_step.enabled',
      at: now,
      ...origin(ctx),
    });
  });
  await notify(services, account, 'on');
}

export async function disableTwoStep(
  services: Services,
  auth: AuthenticatedSession,
  confirmed: boolean,
  ctx: RequestContext,
): Promise<void> {
  if (!auth.account.two_step_enabled_at) throw new AppError('TWO_STEP_OFF');
  requireRecentTwoStep(services, auth);
  if (!confirmed) throw new AppError('ACKNOWLEDGEMENT_REQUIRED');
  const now = services.clock.now();
  await services.store.transaction(async (tx) => {
    // Trusted devices stay registered (SPEC §3.12); trusted browsers no longer mean anything.
    await tx.accounts.disableTwoStep(auth.account.id, now);
    await tx.accounts.markSecurityChanged(auth.account.id, now);
    await tx.trustedBrowsers.forgetAll(auth.account.id);
    // App-specific passwords belong to two-step verification (as at Apple): they end with it.
    const appPasswordsRevoked = await revokeAppPasswords(tx, auth.account.id, now);
    await tx.audit.record({
      accountId: auth.account.id,
      actor: `account:${auth.account.id}`,
      event: 'two_step.disabled',
      at: now,
      ...origin(ctx),
      details: { appPasswordsRevoked },
    });
  });
  await notify(services, auth.account, 'off');
}

async function notify(services: Services, account: Account, state: 'on' | 'off'): Promise<void> {
  const locale = isLocale(account.locale) ? account.locale : 'en';
  await sendSecurityEmail(services, account.id, state === 'on' ? 'twoStepOn' : 'twoStepOff', (notMe) =>
    twoStepChangedMessage(
      { email: account.email, name: account.name, locale },
      state,
      services.config.publicUrl,
      notMe,
    ),
  );
}
