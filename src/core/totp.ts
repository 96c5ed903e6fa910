// Time-based one-time passwords (RFC 6238) for staff sign-in: HMAC-SHA1, 6 digits, 30-second steps,
// the defaults every authenticator app understands. Pure: the time is a parameter. Single use of a
// step is the caller's job (an atomic set-if-absent in the key-value store), because it needs shared state.
import { timingSafeEqual } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

export const TOTP_PERIOD_SECONDS = 30;
const DIGITS = 6;
/** How many steps back a code may be from (clock drift, a code typed just as it changed). Never forward. */
const STEPS_BACK = 1;

/** A new random 160-bit secret (RFC 4226 §4 recommends 160 bits), as base32 for authenticator apps. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totp(secretBase32: string, label = 'staff', issuer = 'Twostep'): TOTP {
  return new TOTP({
    issuer,
    label,
    algorithm: 'SHA1',
    digits: DIGITS,
    period: TOTP_PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** The otpauth:// URI an authenticator app imports (Key Uri Format). */
export function totpUri(secretBase32: string, account: string, issuer: string): string {
  return totp(secretBase32, account, issuer).toString();
}

/** The code for a moment (tests and the CLI's self-check use it). */
export function totpCode(secretBase32: string, at: Date): string {
  return totp(secretBase32).generate({ timestamp: at.getTime() });
}

/** The time step a moment falls in (RFC 6238 §4.2: T = floor(unix time / period)). */
export function totpStep(at: Date): number {
  return Math.floor(at.getTime() / 1000 / TOTP_PERIOD_SECONDS);
}

/**
 * The step whose code `code` is, among the current step and STEPS_BACK before it; undefined when it
 * matches none. Compared in constant time.
 */
export function matchTotp(secretBase32: string, code: string, at: Date): number | undefined {
  const typed = code.replace(/\s/g, '');
  if (!/^\d{6}$/.test(typed)) return undefined;
  const generator = totp(secretBase32);
  const now = totpStep(at);
  let matched: number | undefined;
  for (let back = 0; back <= STEPS_BACK; back += 1) {
    const step = now - back;
    const expected = generator.generate({ timestamp: step * TOTP_PERIOD_SECONDS * 1000 });
    if (timingSafeEqual(Buffer.from(expected), Buffer.from(typed)) && matched === undefined) matched = step;
  }
  return matched;
}
