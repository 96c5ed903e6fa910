// Authenticated encryption of a few stored secrets that must be readable again (an OAuth client
// secret, which oidc-provider compares itself; the provider's private signing keys): AES-256-GCM
// with a key derived per purpose from TWOSTEP_SECRET (HKDF-SHA256, RFC 5869), so a copy of the
// database alone reveals none of them (DESIGN.md convention 6).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';

export type SealKey = Uint8Array;

export function sealKey(secret: string, purpose: string): SealKey {
  return new Uint8Array(hkdfSync('sha256', secret, 'twostep-seal', purpose, 32));
}

export function seal(key: SealKey, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
}

/** The plaintext, or undefined when the value was sealed with another key or altered. */
export function unseal(key: SealKey, sealed: string): string | undefined {
  const [version, data] = sealed.split('.');
  if (version !== VERSION || !data) return undefined;
  const bytes = Buffer.from(data, 'base64url');
  if (bytes.length < 28) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
