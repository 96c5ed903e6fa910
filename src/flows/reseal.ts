// After TWOSTEP_SECRET changed (docs/operations.md, Key rotation): every sealed value still under a
// previous secret is opened and sealed again under the current one (`twostep secret reseal`), so that
// TWOSTEP_SECRET_PREVIOUS can be removed. In batches by id; idempotent (a value the current secret
// opens is left as it is); a value no configured secret opens is counted, named by id and left alone.
// Nothing here ever returns or logs a plaintext.
import { keyring, type SecretSettings } from '../core/secrets.ts';
import type { Store } from '../store/index.ts';
import { SIGNING_KEY_SEAL } from '../store/oidc-keys.ts';
import { CLIENT_SECRET_SEAL } from '../store/oidc-services.ts';
import { SEALED_KINDS, type SealedKind } from '../store/sealed-values.ts';
import { AUTHENTICATOR_SEAL_PURPOSE } from './authenticator-codes.ts';
import { STAFF_TOTP_SEAL } from './staff/staff-totp.ts';

/** The seal purpose (core/seal.ts) of each kind of sealed value. */
const PURPOSES: Record<SealedKind, string> = {
  authenticator: AUTHENTICATOR_SEAL_PURPOSE,
  'staff-totp': STAFF_TOTP_SEAL,
  'oidc-client-secret': CLIENT_SECRET_SEAL,
  'oidc-signing-key': SIGNING_KEY_SEAL,
};

export interface ResealCount {
  kind: SealedKind;
  /** Sealed under a previous secret, now under the current one. */
  resealed: number;
  /** Already under the current secret: left as they were. */
  current: number;
  /** Changed by someone else between read and write (and so written under the current secret already). */
  changed: number;
  /** The ids of values no configured secret opens: left alone. */
  unreadable: string[];
}

export interface ResealOptions {
  batchSize: number;
  /** Told after each batch, with the counts of its kind so far. */
  onBatch?: (count: Readonly<ResealCount>) => void;
}

export async function resealAll(
  deps: { store: Store; config: SecretSettings },
  options: ResealOptions,
): Promise<ResealCount[]> {
  const ring = keyring(deps.config);
  const counts: ResealCount[] = [];
  for (const kind of SEALED_KINDS) {
    const purpose = PURPOSES[kind];
    const count: ResealCount = { kind, resealed: 0, current: 0, changed: 0, unreadable: [] };
    let after: string | undefined;
    for (;;) {
      const page = await deps.store.sealedValues.page(kind, after, options.batchSize);
      if (page.length === 0) break;
      for (const value of page) {
        const opened = ring.unsealAny(purpose, value.sealed);
        if (!opened) count.unreadable.push(value.id);
        else if (!opened.stale) count.current++;
        else if (
          await deps.store.sealedValues.replace(kind, value.id, value.sealed, ring.seal(purpose, opened.plaintext))
        )
          count.resealed++;
        else count.changed++;
      }
      after = page.at(-1)?.id;
      options.onBatch?.(count);
      if (page.length < options.batchSize) break;
    }
    counts.push(count);
  }
  return counts;
}
