// A software WebAuthn authenticator for API tests: it speaks the protocol (CBOR attestation objects
// with the "none" format, COSE P-256 keys, ECDSA over authenticatorData ‖ SHA-256(clientDataJSON),
// WebAuthn Level 3 §6.1 and §6.5) the way a security key does, so the server's real verifier checks
// it. Browser tests use Chromium's virtual authenticator instead.
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

type Cbor = number | string | Uint8Array | Cbor[] | Map<number | string, Cbor>;

function cborHead(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 256) return Buffer.from([(major << 5) | 24, length]);
  const head = Buffer.alloc(3);
  head[0] = (major << 5) | 25;
  head.writeUInt16BE(length, 1);
  return head;
}

/** Just enough CBOR (RFC 8949) for attestation objects and COSE keys. */
export function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
  if (typeof value === 'string') return Buffer.concat([cborHead(3, Buffer.byteLength(value)), Buffer.from(value)]);
  if (value instanceof Uint8Array) return Buffer.concat([cborHead(2, value.length), value]);
  if (Array.isArray(value)) return Buffer.concat([cborHead(4, value.length), ...value.map(cbor)]);
  return Buffer.concat([cborHead(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();

export interface SoftKeyOptions {
  origin: string;
  /** A passkey: discoverable, and it says so in credProps and with a user handle. */
  discoverable?: boolean;
  userVerified?: boolean;
  /** Some authenticators keep no counter (they always report 0). */
  counter?: 'counting' | 'none';
}

export interface SoftKey {
  credentialId: string;
  /** Answers navigator.credentials.create() options, as RegistrationResponseJSON. */
  register(options: Record<string, unknown>): Record<string, unknown>;
  /** Answers navigator.credentials.get() options, as AuthenticationResponseJSON. */
  authenticate(
    options: Record<string, unknown>,
    overrides?: { origin?: string; signCount?: number },
  ): Record<string, unknown>;
}

export function softKey(settings: SoftKeyOptions): SoftKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rawId = randomBytes(16);
  const rpId = new URL(settings.origin).hostname;
  let signCount = 0;
  let userHandle: string | undefined;
  const flags = (attested: boolean): number =>
    0x01 | (settings.userVerified === false ? 0 : 0x04) | (attested ? 0x40 : 0);
  const counterBytes = (count: number): Buffer => {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(count);
    return bytes;
  };
  const clientData = (type: string, challenge: unknown, origin = settings.origin): Buffer =>
    Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));

  return {
    credentialId: b64(rawId),
    register(options) {
      const user = options.user as { id: string };
      userHandle = user.id;
      const credentialIdLength = Buffer.alloc(2);
      credentialIdLength.writeUInt16BE(rawId.length);
      const authData = Buffer.concat([
        sha256(rpId),
        Buffer.from([flags(true)]),
        counterBytes(signCount),
        Buffer.alloc(16),
        credentialIdLength,
        rawId,
        coseKey(publicKey),
      ]);
      const attestationObject = cbor(
        new Map<string, Cbor>([
          ['fmt', 'none'],
          ['attStmt', new Map()],
          ['authData', authData],
        ]),
      );
      return {
        id: b64(rawId),
        rawId: b64(rawId),
        type: 'public-key',
        response: {
          clientDataJSON: b64(clientData('webauthn.create', options.challenge)),
          attestationObject: b64(attestationObject),
          transports: ['usb'],
        },
        clientExtensionResults: { credProps: { rk: settings.discoverable === true } },
      };
    },
    authenticate(options, overrides = {}) {
      if (settings.counter !== 'none') signCount += 1;
      const count = overrides.signCount ?? (settings.counter === 'none' ? 0 : signCount);
      const authData = Buffer.concat([sha256(rpId), Buffer.from([flags(false)]), counterBytes(count)]);
      const clientDataJSON = clientData('webauthn.get', options.challenge, overrides.origin);
      const signature = signWith(privateKey, Buffer.concat([authData, sha256(clientDataJSON)]));
      return {
        id: b64(rawId),
        rawId: b64(rawId),
        type: 'public-key',
        response: {
          clientDataJSON: b64(clientDataJSON),
          authenticatorData: b64(authData),
          signature: b64(signature),
          ...(settings.discoverable && userHandle ? { userHandle } : {}),
        },
        clientExtensionResults: {},
      };
    },
  };
}

function signWith(key: KeyObject, data: Buffer): Buffer {
  return sign('sha256', data, key); // DER-encoded ECDSA, as WebAuthn wants for ES256
}

function coseKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  return cbor(
    new Map<number, Cbor>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, Buffer.from(jwk.x as string, 'base64url')],
      [-3, Buffer.from(jwk.y as string, 'base64url')],
    ]),
  );
}
