// The provider's signing keys live in the database (SPEC §3.14), sealed with a key derived from
// TWOSTEP_SECRET. The first start creates one; `twostep oidc rotate-keys` adds a new one that signs
// from then on, and the old one stays published in the JWKS until every ID token it signed has
// expired, so services can still verify them. Every node reads the same set (provider.ts reloads it).
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import type { Config } from '../../config.ts';
import type { Clock } from '../../core/clock.ts';
import { keyring } from '../../core/secrets.ts';
import { randomToken } from '../../core/tokens.ts';
import type { Store } from '../../store/index.ts';
import { SIGNING_KEY_SEAL } from '../../store/oidc-keys.ts';

export const SIGNING_ALG = 'RS256';
/** Clock skew a service may allow when it checks an ID token's expiry. */
const SKEW_MS = 5 * 60_000;

export interface SigningJwk extends JsonWebKey {
  kid: string;
  alg: string;
  use: 'sig';
}

export interface KeyDeps {
  store: Store;
  config: Config;
  clock: Clock;
}

/** A stored key opened under the current TWOSTEP_SECRET or a previous one. */
function openKey(config: Config, sealed: string): string | undefined {
  return keyring(config).unsealAny(SIGNING_KEY_SEAL, sealed)?.plaintext;
}

/** How long a retired key stays published: the longest an ID token it signed can live, plus skew. */
export function retiredKeyRetentionMs(config: Config): number {
  return config.policy.oidcAccessTokenMinutes * 60_000 + SKEW_MS;
}

async function createKey(deps: KeyDeps): Promise<string> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomToken(12);
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: SIGNING_ALG, use: 'sig' };
  await deps.store.oidcKeys.add({
    kid,
    alg: SIGNING_ALG,
    privateJwkSealed: keyring(deps.config).seal(SIGNING_KEY_SEAL, JSON.stringify(jwk)),
    createdAt: deps.clock.now(),
    retiredAt: null,
  });
  return kid;
}

/** Deletes retired keys whose every token has expired; returns how many (provider.ts reloads when any went). */
export function dropExpiredKeys(deps: KeyDeps): Promise<number> {
  const now = deps.clock.now();
  return deps.store.oidcKeys.deleteRetiredBefore(new Date(now.getTime() - retiredKeyRetentionMs(deps.config)));
}

/**
 * The keys to publish, the signing one first; creates the first key on a fresh database and drops
 * retired keys whose tokens have all expired. Keys sealed under a secret that is neither TWOSTEP_SECRET
 * nor in TWOSTEP_SECRET_PREVIOUS are skipped.
 */
export async function loadSigningKeys(deps: KeyDeps): Promise<{ keys: SigningJwk[]; unreadable: number }> {
  await dropExpiredKeys(deps);
  let rows = await deps.store.oidcKeys.list();
  if (!rows.some((row) => row.retiredAt === null && openKey(deps.config, row.privateJwkSealed))) {
    await createKey(deps);
    rows = await deps.store.oidcKeys.list();
  }
  const keys: SigningJwk[] = [];
  let unreadable = 0;
  for (const row of rows) {
    const opened = openKey(deps.config, row.privateJwkSealed);
    if (opened) keys.push(JSON.parse(opened) as SigningJwk);
    else unreadable++;
  }
  return { keys, unreadable };
}

/** A new signing key; the previous ones are retired (still published until their tokens expire). */
export async function rotateSigningKeys(deps: KeyDeps): Promise<{ kid: string; retired: number }> {
  const kid = await createKey(deps);
  const retired = await deps.store.oidcKeys.retireAllBut(kid, deps.clock.now());
  return { kid, retired };
}

/** Identifies a key set, so a node notices another node's (or the CLI's) rotation. */
export function keySetFingerprint(keys: readonly { kid: string }[]): string {
  return keys.map((key) => key.kid).join(',');
}
