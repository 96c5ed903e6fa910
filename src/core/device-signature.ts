// Device proof of possession (docs/device-protocol.md §2): the device signs the server's fresh nonce
// with its P-256 key; the server checks the signature against the public key registered at pairing.
import { createPublicKey, type JsonWebKey, verify } from 'node:crypto';

export const AUTH_PREFIX = 'twostep-device-auth:';

/**
 * What a device signs to approve a request (docs/device-protocol.md, number matching): its own prefix,
 * so no nonce signature can pass for an approval, and the challenge and the picked number, so an
 * approval is for that one request after that one right pick.
 */
export function approvalMessage(challengeId: string, number: number): string {
  return `twostep-approve:${challengeId}:${number}`;
}

export interface DevicePublicKey {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
}

/** Only a P-256 public key with coordinates of the right size; anything else (private parts included) is refused. */
export function parseDevicePublicKey(value: unknown): DevicePublicKey | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { kty, crv, x, y, d } = value as Record<string, unknown>;
  if (kty !== 'EC' || crv !== 'P-256' || typeof x !== 'string' || typeof y !== 'string' || d !== undefined)
    return undefined;
  if (!/^[A-Za-z0-9_-]{43}$/.test(x) || !/^[A-Za-z0-9_-]{43}$/.test(y)) return undefined;
  const key = { kty, crv, x, y } as const;
  try {
    createPublicKey({ key: key as JsonWebKey, format: 'jwk' }); // throws unless the point is on the curve
  } catch {
    return undefined;
  }
  return key;
}

/** Verifies the device's signature over the connection's nonce. */
export function deviceSignatureValid(publicKey: DevicePublicKey, nonce: string, signature: string): boolean {
  return signatureValid(publicKey, AUTH_PREFIX + nonce, signature);
}

/** Verifies an IEEE P1363 (r||s) ECDSA P-256/SHA-256 signature over `message`, the encoding WebCrypto produces. */
export function signatureValid(publicKey: DevicePublicKey, message: string, signature: string): boolean {
  if (!/^[A-Za-z0-9_-]{86}$/.test(signature)) return false;
  try {
    const key = createPublicKey({ key: publicKey as JsonWebKey, format: 'jwk' });
    return verify(
      'sha256',
      Buffer.from(message, 'utf8'),
      { key, dsaEncoding: 'ieee-p1363' },
      Buffer.from(signature, 'base64url'),
    );
  } catch {
    return false;
  }
}
