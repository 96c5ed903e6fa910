// Opaque bearer tokens are `id.secret`: the id finds the row, only a SHA-256 of the secret is
// stored, and the two are compared in constant time (DESIGN.md convention 6, SECURITY.md item 27).
// Secrets are 256 random bits, so a fast hash is enough (SECURITY.md item 20: ≥112 bits).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface IssuedToken {
  id: string;
  token: string;
  secretHash: string;
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

export function issueToken(): IssuedToken {
  const id = randomToken(16);
  const secret = randomToken(32);
  return { id, token: `${id}.${secret}`, secretHash: sha256(secret) };
}

/** Whether a string has the shape of a token id (the part before the dot): anything else names nothing. */
export function isTokenId(id: string): boolean {
  return /^[A-Za-z0-9_-]{22}$/.test(id);
}

export function splitToken(token: string): { id: string; secret: string } | undefined {
  const match = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(token);
  return match ? { id: match[1] as string, secret: match[2] as string } : undefined;
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(sha256(secret));
  const b = Buffer.from(storedHash);
  return a.length === b.length && timingSafeEqual(a, b);
}
