// The WebAuthn ceremonies (W3C WebAuthn Level 3, via @simplewebauthn/server): registering a security
// key or passkey, and answering with one. The relying party is PUBLIC_URL: its host is the RP ID and
// its origin the only accepted origin, never anything from the request. Challenges are stateless and
// bound to what they are for (core/ceremony-challenge.ts); the first answer carrying one claims it in
// the key-value store, so a replayed answer fails even before the signature is looked at.
import { randomBytes } from 'node:crypto';
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { newCeremonyChallenge, readCeremonyChallenge } from '../core/ceremony-challenge.ts';
import { MINUTE } from '../core/clock.ts';
import { keyring } from '../core/secrets.ts';
import type { Services } from './context.ts';

const CEREMONY_MS = 5 * MINUTE;
const RP_NAME = 'Twostep';

/** Whoever registers a key: a customer account or a staff member. */
export interface KeyHolder {
  id: string;
  email: string;
  name: string;
}

/** What the ceremonies need of a stored key, a customer's or a staff member's. */
export interface StoredCredential {
  id: string;
  credentialId: string;
  publicKey: string;
  signCount: number;
  transports: string[];
}

/** The store that advances a key's counter (store/security-keys.ts, store/staff-security-keys.ts). */
export interface KeyUses {
  recordUse(id: string, signCount: number, at: Date): Promise<boolean>;
}

export function relyingParty(services: Services): { id: string; origin: string } {
  const url = new URL(services.config.publicUrl);
  return { id: url.hostname, origin: url.origin };
}

function freshChallenge(services: Services, binding: string): Uint8Array<ArrayBuffer> {
  const expiresAt = new Date(services.clock.now().getTime() + CEREMONY_MS);
  return newCeremonyChallenge(keyring(services.config).current, binding, expiresAt, new Uint8Array(randomBytes(16)));
}

/** What a returned challenge turned out to be; `replayed` once a valid one came back a second time. */
interface ChallengeClaim {
  replayed: boolean;
  check(challenge: string): Promise<boolean>;
}

function claimFor(services: Services, binding: string): ChallengeClaim {
  const claim: ChallengeClaim = {
    replayed: false,
    async check(challenge) {
      const now = services.clock.now();
      const nonce = keyring(services.config).readAny((secret) =>
        readCeremonyChallenge(secret, binding, challenge, now),
      );
      if (!nonce) return false;
      const first = await services.kv.setIfAbsent(`webauthn:used:${nonce}`, '1', CEREMONY_MS);
      if (!first) claim.replayed = true;
      return first;
    },
  };
  return claim;
}

export function registrationOptions(
  services: Services,
  holder: KeyHolder,
  binding: string,
  existing: StoredCredential[],
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const rp = relyingParty(services);
  return generateRegistrationOptions({
    rpName: RP_NAME,
    rpID: rp.id,
    userID: new TextEncoder().encode(holder.id),
    userName: holder.email,
    userDisplayName: holder.name,
    challenge: freshChallenge(services, binding),
    timeout: CEREMONY_MS,
    attestationType: 'none',
    // The same authenticator twice would be one factor counted as two.
    excludeCredentials: existing.map((key) => ({ id: key.credentialId, transports: transportsOf(key) })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    // credProps tells whether the credential is discoverable: only then can it be a passkey.
    extensions: { credProps: true },
  });
}

export interface RegisteredCredential {
  credentialId: string;
  publicKey: string;
  signCount: number;
  transports: string[];
  passkey: boolean;
}

/** The new credential, or undefined when the response does not verify (wrong challenge, origin, RP, format). */
export async function verifyRegistration(
  services: Services,
  binding: string,
  response: unknown,
): Promise<RegisteredCredential | undefined> {
  const rp = relyingParty(services);
  const claim = claimFor(services, binding);
  try {
    const result = await verifyRegistrationResponse({
      response: response as RegistrationResponseJSON,
      expectedChallenge: (challenge) => claim.check(challenge),
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: false,
    });
    if (!result.verified) return undefined;
    const { credential, userVerified } = result.registrationInfo;
    const discoverable = (response as RegistrationResponseJSON).clientExtensionResults?.credProps?.rk === true;
    return {
      credentialId: credential.id,
      publicKey: Buffer.from(credential.publicKey).toString('base64url'),
      signCount: credential.counter,
      transports: credential.transports ?? [],
      passkey: discoverable && userVerified,
    };
  } catch (error) {
    services.log.info({ reason: (error as Error).message }, 'a security key registration did not verify');
    return undefined;
  }
}

/** Options to answer with one of `keys`; with no keys, any passkey of this site (a passkey sign-in). */
export function authenticationOptions(
  services: Services,
  binding: string,
  keys: StoredCredential[] | undefined,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: relyingParty(services).id,
    challenge: freshChallenge(services, binding),
    timeout: CEREMONY_MS,
    allowCredentials: keys?.map((key) => ({ id: key.credentialId, transports: transportsOf(key) })) ?? [],
    userVerification: keys ? 'preferred' : 'required',
  });
}

/** The credential id an assertion says it comes from, if it has the shape of one. */
export function assertionCredentialId(response: unknown): string | undefined {
  const id = (response as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id.length > 0 && id.length <= 1024 ? id : undefined;
}

/** The user handle of an assertion (a passkey names its account), if any. */
export function assertionUserHandle(response: unknown): string | undefined {
  const handle = (response as { response?: { userHandle?: unknown } } | null)?.response?.userHandle;
  return typeof handle === 'string' ? Buffer.from(handle, 'base64url').toString('utf8') : undefined;
}

export type AssertionResult = 'accepted' | 'used' | 'wrong';

/**
 * Checks an assertion by `key` for `binding` and records the use in `uses` (the key's own store).
 * `used`: a replayed challenge, or a signature counter that did not move forward (a cloned key).
 * `requireUserVerification` for a passkey sign-in, where the key is both factors.
 */
export async function verifyAssertion(
  services: Services,
  binding: string,
  response: unknown,
  key: StoredCredential,
  options: { requireUserVerification: boolean; uses: KeyUses },
): Promise<AssertionResult> {
  const rp = relyingParty(services);
  const claim = claimFor(services, binding);
  let newCounter: number;
  try {
    const result = await verifyAuthenticationResponse({
      response: response as AuthenticationResponseJSON,
      expectedChallenge: (challenge) => claim.check(challenge),
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: {
        id: key.credentialId,
        publicKey: new Uint8Array(Buffer.from(key.publicKey, 'base64url')),
        counter: key.signCount,
        transports: transportsOf(key),
      },
      requireUserVerification: options.requireUserVerification,
    });
    if (!result.verified) return 'wrong';
    newCounter = result.authenticationInfo.newCounter;
  } catch (error) {
    if (claim.replayed) return 'used';
    services.log.info({ reason: (error as Error).message }, 'a security key assertion did not verify');
    return 'wrong';
  }
  if (await options.uses.recordUse(key.id, newCounter, services.clock.now())) return 'accepted';
  services.log.warn({ key: key.id }, 'a security key answered with a counter that did not move forward');
  return 'used';
}

function transportsOf(key: StoredCredential): AuthenticatorTransportFuture[] {
  return key.transports as AuthenticatorTransportFuture[];
}

type AuthenticatorTransportFuture = 'ble' | 'cable' | 'hybrid' | 'internal' | 'nfc' | 'smart-card' | 'usb';
