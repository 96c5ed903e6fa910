// What can still answer a second step on an account: confirmed authenticator apps, security keys,
// trusted devices, verified phones. Removing an app or a key never takes the last one of a two-step
// account (TWO_STEP_LAST_FACTOR): the owner would be left with the recovery key alone.
import type { Services } from './context.ts';

/** Whether the account keeps a second step once `removing` (an authenticator app or a security key) is gone. */
export async function keepsAnotherSecondStep(
  services: Services,
  accountId: string,
  removing: { authenticatorId?: string; securityKeyId?: string },
): Promise<boolean> {
  const { store } = services;
  const apps = await store.authenticators.listForAccount(accountId);
  if (apps.some((a) => a.confirmedAt && a.id !== removing.authenticatorId)) return true;
  const keys = await store.securityKeys.listForAccount(accountId);
  if (keys.some((k) => k.id !== removing.securityKeyId)) return true;
  if ((await store.devices.listForAccount(accountId)).some((d) => d.trustedAt)) return true;
  return (await store.phones.listForAccount(accountId)).some((p) => p.verifiedAt);
}
