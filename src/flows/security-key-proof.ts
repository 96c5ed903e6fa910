// Answering a challenge with a security key or passkey (SPEC §7 channel type `webauthn`): the browser
// asks for options for this very challenge (the ceremony challenge is bound to its id), the key signs,
// and the assertion is a Proof that challenges.ts runs through the same verify, attempt budget and
// audit as a code. Only the account's own live keys count; a replayed assertion is refused.
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { AppError } from '../core/errors.ts';
import { securityKeyLimits } from '../core/security-key-policy.ts';
import type { Challenge } from '../store/challenges.ts';
import type { SecurityKey } from '../store/security-keys.ts';
import type { Proof } from './challenges.ts';
import type { Services } from './context.ts';
import { assertionCredentialId, authenticationOptions, verifyAssertion } from './webauthn-ceremony.ts';

/** The purposes a key can answer: the second step of a sign-in, a step-up, and the step after the recovery key. */
const SECURITY_KEY_PURPOSES: ReadonlySet<string> = new Set(['sign_in', 'step_up', 'recovery']);

function challengeBinding(challengeId: string): string {
  return `challenge:${challengeId}`;
}

/** The keys that may answer for the account now (none until enough are registered under Apple's rules). */
export async function usableSecurityKeys(services: Services, accountId: string): Promise<SecurityKey[]> {
  const keys = await services.store.securityKeys.listForAccount(accountId);
  return keysAreUsable(services, keys.length) ? keys : [];
}

/** Whether an account's `count` keys answer challenges: under Apple's rules only from the second one. */
export function keysAreUsable(services: Services, count: number): boolean {
  return count >= securityKeyLimits(services.config.policy.securityKeyRules).usableFrom;
}

/** Options for navigator.credentials.get() that answer `challenge` with one of the account's keys. */
export async function securityKeyOptionsFor(
  services: Services,
  challenge: Challenge,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  if (!SECURITY_KEY_PURPOSES.has(challenge.purpose)) throw new AppError('NOT_FOUND');
  const keys = await usableSecurityKeys(services, challenge.accountId);
  if (keys.length === 0) throw new AppError('NOT_FOUND');
  return authenticationOptions(services, challengeBinding(challenge.id), keys);
}

/** The assertion a browser sent back, as an answer to the challenge. */
export function securityKeyProof(response: unknown): Proof {
  return {
    by: 'webauthn',
    purposes: SECURITY_KEY_PURPOSES,
    async check(services, challenge) {
      const credentialId = assertionCredentialId(response);
      const keys = credentialId ? await usableSecurityKeys(services, challenge.accountId) : [];
      const key = keys.find((k) => k.credentialId === credentialId);
      if (!key) return 'wrong';
      return verifyAssertion(services, challengeBinding(challenge.id), response, key, {
        requireUserVerification: false,
        uses: services.store.securityKeys,
      });
    },
  };
}

/** Options for the challenge when one of `channels` is a security key; undefined otherwise. */
export async function securityKeyOptionsIfAny(
  services: Services,
  challenge: Challenge,
  channels: { type: string }[],
): Promise<PublicKeyCredentialRequestOptionsJSON | undefined> {
  if (!channels.some((channel) => channel.type === 'webauthn')) return undefined;
  return securityKeyOptionsFor(services, challenge);
}
