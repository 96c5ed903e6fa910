// Checks and normal forms of the profile fields a user types at sign-up (SPEC §2, Account).

import { isCountryCode } from './countries.ts';
import { AppError } from './errors.ts';

const EMAIL_PATTERN =
  /^[^\s@<>()[\]\\,;:"]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$/;

// No mailbox needs control, invisible-format, private-use or unpaired surrogate characters; PostgreSQL
// cannot even store U+0000 (an email holding one reached the database and came back as a 500), and a
// lone surrogate would be stored as U+FFFD, so two different inputs would name one account.
const FORBIDDEN_IN_EMAIL = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}]/u;

/** Emails are compared case-insensitively: one mailbox, one account. */
export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (
    email.length > 254 ||
    FORBIDDEN_IN_EMAIL.test(email) ||
    !EMAIL_PATTERN.test(email) ||
    (email.split('@')[0] ?? '').length > 64
  ) {
    throw new AppError('INVALID_EMAIL');
  }
  return email;
}

// Control characters, and the invisible format characters used to spoof names.
const FORBIDDEN_IN_NAME = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\u2028\u2029]/u;

export function normalizeName(raw: string): string {
  const name = raw.normalize('NFC').trim().replace(/\s+/gu, ' ');
  if (name.length === 0 || [...name].length > 100 || FORBIDDEN_IN_NAME.test(name)) throw new AppError('INVALID_NAME');
  return name;
}

/** A real calendar date `YYYY-MM-DD`, not before 1900 and not in the future. Profile data, never proof of identity. */
export function parseBirthDate(raw: string, today: Date): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw.trim());
  if (!match) throw new AppError('INVALID_BIRTH_DATE');
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  const real = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  if (!real || year < 1900 || date.getTime() > today.getTime()) throw new AppError('INVALID_BIRTH_DATE');
  return match[0];
}

export function normalizeCountry(raw: string): string {
  const country = raw.trim().toUpperCase();
  if (!isCountryCode(country)) throw new AppError('INVALID_COUNTRY');
  return country;
}
