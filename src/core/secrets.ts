// TWOSTEP_SECRET and, during a rotation, its previous values (TWOSTEP_SECRET_PREVIOUS): the one place
// that knows which secret keys or seals something new (always the current one) and which ones may
// still verify or unseal what was made before (the current one, then the previous ones, in order).
// Every keyed value (code hashes, form tokens, WebAuthn challenges) and every sealed one
// (core/seal.ts) goes through here, so dropping a previous secret ends all of them at once.
// The sealed format has no key id: AES-256-GCM fails authentication under a wrong key, so trying the
// keys in order finds the right one or none (NIST SP 800-38D §5.2.2).
import { type SealKey, seal, sealKey, unseal } from './seal.ts';

/** What a keyring is built from: Config has both fields. */
export interface SecretSettings {
  secret: string;
  /** Comma-separated, as TWOSTEP_SECRET_PREVIOUS is written. */
  secretPrevious?: string | undefined;
}

/** A sealed value opened; `stale` when a previous secret opened it (`twostep secret reseal` renews it). */
export interface Unsealed {
  plaintext: string;
  stale: boolean;
}

export interface Keyring {
  /** The secret that keys and seals everything new. */
  readonly current: string;
  /** The current secret first, then the previous ones: every secret that still verifies or unseals. */
  readonly all: readonly string[];
  /** True when `check` passes under any secret of the ring (the current one is tried first). */
  verifyAny(check: (secret: string) => boolean): boolean;
  /** The first result `read` finds under a secret of the ring, the current one first. */
  readAny<T>(read: (secret: string) => T | undefined): T | undefined;
  /** Seals under the current secret's key for `purpose`. */
  seal(purpose: string, plaintext: string): string;
  /** Opens a value sealed for `purpose` under any secret of the ring; undefined when none opens it. */
  unsealAny(purpose: string, sealed: string): Unsealed | undefined;
}

const rings = new WeakMap<SecretSettings, Keyring>();

/**
 * The keyring of these settings, built once per settings object (key derivation is not free); a
 * loaded Config is never changed afterwards, so the object is the key.
 */
export function keyring(settings: SecretSettings): Keyring {
  const known = rings.get(settings);
  if (known) return known;
  const ring = buildKeyring(settings.secret, parsePrevious(settings.secretPrevious));
  rings.set(settings, ring);
  return ring;
}

function parsePrevious(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((value) => value.trim())
    .filter((value) => value.length > 0);
}

function buildKeyring(current: string, previous: readonly string[]): Keyring {
  // A previous value equal to the current one would only make every miss cost twice.
  const all = [current, ...new Set(previous.filter((value) => value !== current))];
  const sealKeys = new Map<string, SealKey[]>();
  const keysFor = (purpose: string): SealKey[] => {
    let keys = sealKeys.get(purpose);
    if (!keys) {
      keys = all.map((secret) => sealKey(secret, purpose));
      sealKeys.set(purpose, keys);
    }
    return keys;
  };
  function readAny<T>(read: (secret: string) => T | undefined): T | undefined {
    for (const secret of all) {
      const found = read(secret);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  return {
    current,
    all,
    verifyAny: (check) => all.some(check),
    readAny,
    seal: (purpose, plaintext) => seal(keysFor(purpose)[0] as SealKey, plaintext),
    unsealAny(purpose, sealed) {
      const keys = keysFor(purpose);
      for (const [index, key] of keys.entries()) {
        const plaintext = unseal(key, sealed);
        if (plaintext !== undefined) return { plaintext, stale: index > 0 };
      }
      return undefined;
    },
  };
}
