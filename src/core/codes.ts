// One-time codes (SPEC §2 Challenge; SECURITY.md items 11–12): uniformly random decimal digits from
// a CSPRNG, stored only as an HMAC keyed with the server secret and bound to their challenge, so a
// database leak reveals no code and a code can never match another challenge.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type RandomInt = (maxExclusive: number) => number;

/** `length` decimal digits, each uniform (the randomInt source must be a CSPRNG, e.g. node:crypto.randomInt). */
export function generateCode(length: number, randomInt: RandomInt): string {
  let code = '';
  for (let i = 0; i < length; i += 1) code += String(randomInt(10));
  return code;
}

export function hashCode(secret: string, challengeId: string, code: string): string {
  return createHmac('sha256', secret).update(`code:${challengeId}:${code}`).digest('base64url');
}

export function codeMatches(secret: string, challengeId: string, code: string, storedHash: string): boolean {
  const a = Buffer.from(hashCode(secret, challengeId, code));
  const b = Buffer.from(storedHash);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What a user typed, reduced to digits: spaces and dashes are forgiven, anything else is not a code. */
export function normalizeCode(raw: string, length: number): string | undefined {
  const digits = raw.replace(/[\s-]/g, '');
  return new RegExp(`^\\d{${length}}$`).test(digits) ? digits : undefined;
}
