// The password rules of SPEC §5 and SECURITY.md items 1–3 (NIST 800-63B-4 §3.1.1.2): a length
// window counted in Unicode code points, no composition rules, and a blocklist of common passwords
// and of the account's own words. Pure: the blocklist and the guessability estimate are passed in.
import { AppError } from './errors.ts';

export interface PasswordRules {
  minLength: number;
  maxLength: number;
}

export interface PasswordContext {
  email?: string;
  name?: string;
}

export interface PasswordChecks {
  blocklist: ReadonlySet<string>;
  /** 0 (trivially guessable) … 4 (very hard), from a zxcvbn-style estimator. */
  guessability: (password: string, userWords: string[]) => number;
}

const SERVICE_WORDS = ['twostep'];

/** NFKC so that the same password typed on two keyboards hashes the same (SECURITY.md item 1). */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

export function codePointLength(value: string): number {
  return [...value].length;
}

/** The account's own words that must not carry a password: parts of the email and the name. */
export function contextWords(context: PasswordContext): string[] {
  const local = context.email?.split('@')[0] ?? '';
  const parts = [...local.split(/[._+-]+/), ...(context.name ?? '').split(/\s+/), ...SERVICE_WORDS];
  return [...new Set(parts.map((p) => p.toLowerCase()).filter((p) => codePointLength(p) >= 4))];
}

/** The forms of a password looked up in the blocklist: as typed, and without decoration at either end. */
function blocklistCandidates(lowered: string): string[] {
  const stripped = lowered.replace(/^[\d\W_]+/u, '').replace(/[\d\W_]+$/u, '');
  return stripped.length >= 4 ? [lowered, stripped] : [lowered];
}

export function checkPassword(
  password: string,
  rules: PasswordRules,
  context: PasswordContext,
  checks: PasswordChecks,
): void {
  const normalized = normalizePassword(password);
  const length = codePointLength(normalized);
  if (length < rules.minLength) throw new AppError('PASSWORD_TOO_SHORT', { detail: { minLength: rules.minLength } });
  if (length > rules.maxLength) throw new AppError('PASSWORD_TOO_LONG', { detail: { maxLength: rules.maxLength } });
  const lowered = normalized.toLowerCase();
  if (blocklistCandidates(lowered).some((candidate) => checks.blocklist.has(candidate))) {
    throw new AppError('PASSWORD_COMMON');
  }
  const words = contextWords(context);
  if (words.some((word) => lowered.includes(word))) throw new AppError('PASSWORD_CONTAINS_PERSONAL_INFO');
  if (checks.guessability(normalized, words) < 2) throw new AppError('PASSWORD_COMMON');
}
