// The recovery key (SPEC §2; SECURITY.md item 20): 13 random Crockford base32 characters (65 bits)
// plus one check character, shown as XXXX-XXXX-XXXX-XX. The check character (Luhn mod 32) catches
// every single mistyped character and most swaps of neighbours before any attempt is spent. Input
// is forgiving: case, spaces and dashes do not matter, and I, L, O read as 1, 1, 0 (Crockford).
import type { RandomInt } from './codes.ts';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const DATA_LENGTH = 13;

function luhnCheckCharacter(data: string): string {
  // Luhn mod N: from the right, double every other value, fold the digit sum in base N.
  let sum = 0;
  let double = true;
  for (let i = data.length - 1; i >= 0; i -= 1) {
    let value = ALPHABET.indexOf(data[i] as string);
    if (double) {
      value *= 2;
      value = Math.floor(value / 32) + (value % 32);
    }
    sum += value;
    double = !double;
  }
  return ALPHABET[(32 - (sum % 32)) % 32] as string;
}

export function generateRecoveryKey(randomInt: RandomInt): string {
  let data = '';
  for (let i = 0; i < DATA_LENGTH; i += 1) data += ALPHABET[randomInt(32)];
  return formatRecoveryKey(data + luhnCheckCharacter(data));
}

export function formatRecoveryKey(compact: string): string {
  return `${compact.slice(0, 4)}-${compact.slice(4, 8)}-${compact.slice(8, 12)}-${compact.slice(12)}`;
}

export type RecoveryKeyInput = { ok: true; key: string } | { ok: false; reason: 'format' | 'check' };

/** The canonical form of what the user typed, or why it cannot be a recovery key (no attempt is spent on a typo). */
export function normalizeRecoveryKey(raw: string): RecoveryKeyInput {
  const compact = raw.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  if (compact.length !== DATA_LENGTH + 1 || [...compact].some((c) => !ALPHABET.includes(c)))
    return { ok: false, reason: 'format' };
  const data = compact.slice(0, DATA_LENGTH);
  if (luhnCheckCharacter(data) !== compact[DATA_LENGTH]) return { ok: false, reason: 'check' };
  return { ok: true, key: formatRecoveryKey(compact) };
}
