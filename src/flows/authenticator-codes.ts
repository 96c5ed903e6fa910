// Checking a code from a customer's authenticator app (flows/authenticators.ts enrols them). Kept apart
// from the enrolment flow so challenges.ts can use it without an import cycle through step-up.ts.
// Each app accepts a code only for a time step later than the last one it accepted, claimed with one
// conditional UPDATE (store/authenticators.ts claimStep), so a code works once, an older code still in
// the window cannot follow a newer one, and of concurrent uses exactly one wins (RFC 6238 §5.2;
// SECURITY.md item 19). The database, not the key-value store, holds it: it must outlive any TTL.
import { keyring } from '../core/secrets.ts';
import { matchTotp } from '../core/totp.ts';
import type { Authenticator } from '../store/authenticators.ts';
import type { Services } from './context.ts';

export const AUTHENTICATOR_SEAL_PURPOSE = 'account-totp';

/**
 * `accepted`: the code is right and this call used up its step. `used`: the code is right but its step
 * (or a later one) was accepted already: a replay, or a concurrent copy of the same answer. `wrong`:
 * not this app's code now.
 */
export type AuthenticatorCodeResult = 'accepted' | 'used' | 'wrong';

/** Claims the step of `code` for this app (atomic: of concurrent claims exactly one is `accepted`). */
export async function claimAuthenticatorCode(
  services: Services,
  app: Authenticator,
  code: string,
): Promise<AuthenticatorCodeResult> {
  const secret = keyring(services.config).unsealAny(AUTHENTICATOR_SEAL_PURPOSE, app.secretSealed)?.plaintext;
  if (!secret) return 'wrong';
  const step = matchTotp(secret, code, services.clock.now());
  if (step === undefined) return 'wrong';
  return (await services.store.authenticators.claimStep(app.id, step)) ? 'accepted' : 'used';
}

/** Tries `code` against each of the account's confirmed apps; its step is used up when accepted. */
export async function acceptAuthenticatorCode(
  services: Services,
  accountId: string,
  code: string,
): Promise<AuthenticatorCodeResult> {
  const apps = (await services.store.authenticators.listForAccount(accountId)).filter((a) => a.confirmedAt);
  let result: AuthenticatorCodeResult = 'wrong';
  for (const app of apps) {
    const claimed = await claimAuthenticatorCode(services, app, code);
    if (claimed === 'accepted') return claimed;
    if (claimed === 'used') result = claimed;
  }
  return result;
}
