// WebAuthn ceremony challenges (W3C WebAuthn §13.4.3: random, at least 16 bytes, used once) that the
// server need not store until they come back: 16 random bytes, the expiry, and an HMAC over both and
// what the ceremony is for (`binding`: this session's registration, that challenge's sign-in, a
// passkey sign-in). A page can therefore carry its options from the moment it is rendered, and a
// challenge made for one purpose or session never verifies for another. Single use is the caller's
// (flows/webauthn-ceremony.ts claims the nonce in the key-value store).
import { createHmac, timingSafeEqual } from 'node:crypto';

const NONCE_BYTES = 16;
const EXPIRY_BYTES = 8;
const MAC_BYTES = 16;

function mac(secret: string, binding: string, body: Uint8Array): Buffer {
  return createHmac('sha256', secret)
    .update(`webauthn-ceremony:${binding}:`)
    .update(body)
    .digest()
    .subarray(0, MAC_BYTES);
}

/** The challenge bytes for a ceremony that must be answered before `expiresAt`. */
export function newCeremonyChallenge(
  secret: string,
  binding: string,
  expiresAt: Date,
  nonce: Uint8Array,
): Uint8Array<ArrayBuffer> {
  if (nonce.length !== NONCE_BYTES) throw new Error(`a ceremony nonce has ${NONCE_BYTES} bytes`);
  const body = Buffer.alloc(NONCE_BYTES + EXPIRY_BYTES);
  body.set(nonce, 0);
  body.writeBigUInt64BE(BigInt(expiresAt.getTime()), NONCE_BYTES);
  return new Uint8Array(Buffer.concat([body, mac(secret, binding, body)]));
}

/** The nonce (base64url) of a challenge made for `binding` that has not expired; undefined for anything else. */
export function readCeremonyChallenge(
  secret: string,
  binding: string,
  base64url: string,
  now: Date,
): string | undefined {
  const bytes = Buffer.from(base64url, 'base64url');
  if (bytes.length !== NONCE_BYTES + EXPIRY_BYTES + MAC_BYTES) return undefined;
  const body = bytes.subarray(0, NONCE_BYTES + EXPIRY_BYTES);
  if (!timingSafeEqual(mac(secret, binding, body), bytes.subarray(NONCE_BYTES + EXPIRY_BYTES))) return undefined;
  if (Number(body.readBigUInt64BE(NONCE_BYTES)) <= now.getTime()) return undefined;
  return body.subarray(0, NONCE_BYTES).toString('base64url');
}
