// App-specific passwords (SPEC §2, §3.13): 16 random lowercase letters (16 · log2 26 ≈ 75.2 bits),
// shown once as xxxx-xxxx-xxxx-xxxx, for legacy mail and calendar clients that can only send a
// username and a password. Below 112 bits, so they are stored with the salted password hash
// (argon2id), never a fast one (SECURITY.md item 20).
//
// Finding the one stored row without trying every argon2 hash of the account: each row keeps a
// *hint*, the first two hex digits (8 bits) of a SHA-256 of the password. The hints of an account's
// live passwords are all different (a new password is drawn again until its hint is free, and a
// partial unique index holds it under races), so a presented password selects at most one row, and
// a check costs exactly one argon2 verification — against that row, or against the dummy hash when
// no row (or no account) matches, which takes the same time. A stolen database learns 8 of the 75
// bits from a hint: 67 bits remain behind argon2id, out of reach of offline guessing. Input is
// forgiving (case, spaces and dashes do not matter), so a hint is computed from the canonical form.
import { createHash } from 'node:crypto';
import type { RandomInt } from './codes.ts';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const LENGTH = 16;
export const LABEL_MAX_LENGTH = 64;

/** A new app-specific password in its canonical form (16 letters, no dashes). */
export function generateAppPassword(randomInt: RandomInt): string {
  let out = '';
  for (let i = 0; i < LENGTH; i += 1) out += LETTERS[randomInt(LETTERS.length)];
  return out;
}

/** How it is shown once: xxxx-xxxx-xxxx-xxxx. */
export function formatAppPassword(canonical: string): string {
  return canonical.match(/.{1,4}/g)?.join('-') ?? canonical;
}

/** The canonical form of what a client sent, or undefined when it cannot be an app-specific password. */
export function normalizeAppPassword(raw: string): string | undefined {
  if (raw.length > 64) return undefined;
  const compact = raw.toLowerCase().replace(/[\s-]/g, '');
  return /^[a-z]{16}$/.test(compact) ? compact : undefined;
}

/** The non-secret 8-bit hint that picks the one row to verify (see above). */
export function appPasswordHint(canonical: string): string {
  return createHash('sha256').update(`app-password:${canonical}`).digest('hex').slice(0, 2);
}

/** A label the owner recognises ("Mail on the old MacBook"): trimmed, 1–64 characters, no control characters. */
export function normalizeLabel(raw: string): string | undefined {
  const label = raw.normalize('NFC').trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  if (label.length === 0 || [...label].length > LABEL_MAX_LENGTH || /[\u0000-\u001f\u007f]/.test(label))
    return undefined;
  return label;
}
