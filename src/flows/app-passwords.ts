// App-specific passwords (SPEC §2, §3.13). As at Apple, they belong to two-step verification: a
// legacy mail or calendar client that can only send an email and a password gets one of these
// instead of the account password, which on a two-step account it could never use alone. Creating
// one is a protected change (a recent two-step verification), audited and emailed to the owner;
// at most APP_PASSWORDS_MAX are live. They all end when the password changes or is reset, when
// "This wasn't me" is reported, and when two-step verification is turned off (those flows call
// `revokeAppPasswords` inside their own transactions).
import { randomInt, randomUUID } from 'node:crypto';
import { appPasswordHint, formatAppPassword, generateAppPassword, normalizeLabel } from '../core/app-password.ts';
import { AppError } from '../core/errors.ts';
import type { AppPassword } from '../store/app-passwords.ts';
import type { Store } from '../store/index.ts';
import { origin, type RequestContext, type Services } from './context.ts';
import { notifyOwner } from './notify.ts';
import type { AuthenticatedSession } from './sessions.ts';
import { requireRecentTwoStep } from './step-up.ts';

export type AppPasswordView = AppPassword;

export interface CreatedAppPassword {
  appPassword: AppPasswordView;
  /** xxxx-xxxx-xxxx-xxxx, shown once: only its hash is kept. */
  password: string;
}

// With at most a few dozen live hints out of 256, a free one is found in a draw or two; the bound
// only keeps a broken random source from looping forever.
const MAX_DRAWS = 64;

export async function listAppPasswords(services: Services, accountId: string): Promise<AppPasswordView[]> {
  return services.store.appPasswords.listLive(accountId);
}

function requireTwoStepOn(auth: AuthenticatedSession): void {
  if (!auth.account.two_step_enabled_at) throw new AppError('APP_PASSWORDS_NEED_TWO_STEP');
}

export async function createAppPassword(
  services: Services,
  auth: AuthenticatedSession,
  rawLabel: string,
  ctx: RequestContext,
): Promise<CreatedAppPassword> {
  requireTwoStepOn(auth);
  requireRecentTwoStep(services, auth);
  const label = normalizeLabel(rawLabel);
  if (label === undefined) throw new AppError('INVALID_LABEL');
  const { account } = auth;
  const max = services.config.policy.appPasswordsMax;
  const now = services.clock.now();
  for (let draw = 0; draw < MAX_DRAWS; draw += 1) {
    const password = generateAppPassword(randomInt);
    const id = randomUUID();
    // The slow hash is computed outside the transaction, which only holds the account's row lock briefly.
    const passwordHash = await services.hasher.hash(password);
    const result = await services.store.transaction(async (tx) => {
      const added = await tx.appPasswords.add(
        { id, accountId: account.id, label, hint: appPasswordHint(password), passwordHash, createdAt: now },
        { max },
      );
      if (added === 'added')
        await tx.audit.record({
          accountId: account.id,
          actor: `account:${account.id}`,
          event: 'app_password.created',
          at: now,
          ...origin(ctx),
          details: { appPassword: id, label },
        });
      return added;
    });
    if (result === 'limit_reached') throw new AppError('APP_PASSWORD_LIMIT', { detail: { max } });
    if (result === 'hint_taken') continue;
    // SPEC §3.17: every creation is told to the owner. The password stands even if the mail relay
    // is down (the owner is looking at it right now); the failure is logged, not hidden.
    await notifyOwner(services, account, 'appPasswordCreated', { label }).catch((error: unknown) =>
      services.log.warn({ err: error, account: account.id }, 'app-specific password notice could not be sent'),
    );
    return {
      appPassword: { id, accountId: account.id, label, createdAt: now, lastUsedAt: null, lastUsedIp: null },
      password: formatAppPassword(password),
    };
  }
  throw new Error('no free app-specific password hint after many draws');
}

export async function revokeAppPassword(
  services: Services,
  auth: AuthenticatedSession,
  id: string,
  ctx: RequestContext,
): Promise<void> {
  requireRecentTwoStep(services, auth);
  const { account } = auth;
  const now = services.clock.now();
  await services.store.transaction(async (tx) => {
    const label = await tx.appPasswords.revoke(account.id, id, now);
    if (label === undefined) throw new AppError('NOT_FOUND');
    await tx.audit.record({
      accountId: account.id,
      actor: `account:${account.id}`,
      event: 'app_password.revoked',
      at: now,
      ...origin(ctx),
      details: { appPassword: id, label },
    });
  });
}

/** "Revoke all" by the owner; returns how many there were. */
export async function revokeAllAppPasswords(
  services: Services,
  auth: AuthenticatedSession,
  ctx: RequestContext,
): Promise<number> {
  requireRecentTwoStep(services, auth);
  const { account } = auth;
  const now = services.clock.now();
  return services.store.transaction(async (tx) => {
    const revoked = await tx.appPasswords.revokeAll(account.id, now);
    await tx.audit.record({
      accountId: account.id,
      actor: `account:${account.id}`,
      event: 'app_password.revoked_all',
      at: now,
      ...origin(ctx),
      details: { revoked },
    });
    return revoked;
  });
}

/**
 * For the flows that end every app-specific password as part of a bigger change (new password,
 * reset, "This wasn't me", two-step off), inside their transaction; their own audit event carries the count.
 */
export function revokeAppPasswords(tx: Store, accountId: string, at: Date): Promise<number> {
  return tx.appPasswords.revokeAll(accountId, at);
}
