// The device key pair of the terminal app: P-256, private key kept in PEM by the caller (file mode 0600).
import { createPrivateKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { AUTH_PREFIX, approvalMessage, type DevicePublicKey } from '../core/device-signature.ts';

export interface DeviceKeys {
  privateKeyPem: string;
  publicKey: DevicePublicKey;
}

export function createDeviceKeys(): DeviceKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKey: { kty: 'EC', crv: 'P-256', x: String(jwk.x), y: String(jwk.y) },
  };
}

/** The answer to the server's hello: ECDSA P-256/SHA-256 in IEEE P1363 form, as WebCrypto signs. */
export function signNonce(privateKey: KeyObject | string, nonce: string): string {
  return signText(privateKey, AUTH_PREFIX + nonce);
}

/** "Approve" after the right number-matching pick: a signature over the challenge and that number. */
export function signApproval(privateKey: KeyObject | string, challengeId: string, number: number): string {
  return signText(privateKey, approvalMessage(challengeId, number));
}

function signText(privateKey: KeyObject | string, message: string): string {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  return sign('sha256', Buffer.from(message, 'utf8'), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
}
