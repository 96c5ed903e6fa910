// Trusted phone numbers (SPEC §2): parsed and validated as E.164 with libphonenumber's full metadata,
// so the number type is known. Premium-rate, shared-cost and similar numbers are refused: they are
// what SMS pumping fraud sends codes to (SECURITY.md item 40).
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { AppError } from './errors.ts';

export interface PhoneNumber {
  e164: string;
  country: string | undefined;
  international: string;
  /** The last digits only, for lists and support (never the whole number). */
  masked: string;
}

const REFUSED_TYPES = new Set(['PREMIUM_RATE', 'SHARED_COST', 'TOLL_FREE', 'UAN', 'VOICEMAIL', 'PAGER']);

export function parsePhoneNumber(raw: string, defaultCountry?: string): PhoneNumber {
  const parsed = parsePhoneNumberFromString(
    raw.trim(),
    defaultCountry as Parameters<typeof parsePhoneNumberFromString>[1],
  );
  if (!parsed?.isValid()) throw new AppError('INVALID_PHONE_NUMBER');
  const type = parsed.getType();
  if (type && REFUSED_TYPES.has(type)) throw new AppError('PHONE_NUMBER_NOT_ALLOWED', { detail: { type } });
  const e164 = parsed.number;
  return {
    e164,
    country: parsed.country,
    international: parsed.formatInternational(),
    masked: `•••• ${e164.slice(-2)}`,
  };
}
