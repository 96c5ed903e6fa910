// What can still answer a second step on an account: confirmed authenticator apps, security keys
// (as many as SECURITY_KEY_RULES needs before they count), trusted devices, verified phones. Removing
// any of them never takes the last one of a two-step account (TWO_STEP_LAST_FACTOR): the owner would
// be left with the recovery key alone (docs/security.md, the invariant test/faults/crash-run.ts checks).
import { AppError } from '../core/errors.ts';
import { securityKeyLimits } from '../core/security-key-policy.ts';
import type { Store } from '../store/index.ts';
import type { Services } from './context.ts';

/** The factor about to be removed: exactly one of these. */
export interface RemovedFactor {
  authenticatorId?: string;
  securityKeyId?: string;
  deviceId?: string;
  phoneId?: string;
}

/** How many factors answer a second step once `without` is gone (a count of what is counted, not of rows). */
async function secondStepsWithout(
  services: Services,
  tx: Store,
  accountId: string,
  without: RemovedFactor,
): Promise<number> {
  const apps = (await tx.authenticators.listForAccount(accountId)).filter(
    (a) => a.confirmedAt && a.id !== without.authenticatorId,
  );
  const keys = (await tx.securityKeys.listForAccount(accountId)).filter((k) => k.id !== without.securityKeyId);
  // Under Apple's rules one key alone is not offered as a second step (core/security-key-policy.ts).
  const usableKeys = keys.length >= securityKeyLimits(services.config.policy.securityKeyRules).usableFrom ? keys : [];
  const devices = (await tx.devices.listForAccount(accountId)).filter((d) => d.trustedAt && d.id !== without.deviceId);
  const phones = (await tx.phones.listForAccount(accountId)).filter((p) => p.verifiedAt && p.id !== without.phoneId);
  return apps.length + usableKeys.length + devices.length + phones.length;
}

/**
 * Call inside the transaction that removes the factor, before the removal. Takes the account's row
 * lock first, so removals of one account's factors run one after the other and each sees what the
 * one before it removed (two removals of the last two factors cannot both pass the check: PostgreSQL
 * row lock; PGlite has one connection anyway). Refuses with TWO_STEP_LAST_FACTOR when two-step
 * verification is on (as the locked row says, not the session) and the removal would leave nothing
 * that answers.
 */
export async function assertKeepsSecondStep(
  services: Services,
  tx: Store,
  accountId: string,
  removing: RemovedFactor,
): Promise<void> {
  const account = await tx.accounts.lockForUpdate(accountId);
  if (!account) throw new AppError('NOT_FOUND');
  if (!account.two_step_enabled_at) return;
  if ((await secondStepsWithout(services, tx, accountId, removing)) > 0) return;
  // Nothing would be left: refused, unless the factor never counted (an unverified phone, a device not
  // yet trusted, an app never confirmed), whose removal takes nothing away.
  if ((await secondStepsWithout(services, tx, accountId, {})) > 0) throw new AppError('TWO_STEP_LAST_FACTOR');
}
