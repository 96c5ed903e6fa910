// The recovery key's shape, entropy and forgiving, typo-catching input (SPEC §2; SECURITY.md item 20).
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { generateRecoveryKey, normalizeRecoveryKey } from '../../src/core/recovery-key.ts';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

test('a key is 14 Crockford base32 characters shown as XXXX-XXXX-XXXX-XX, with 65 random bits', () => {
  const key = generateRecoveryKey(randomInt);
  assert.match(key, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}$/);
  assert.ok(13 * Math.log2(32) >= 64, 'at least 64 bits (NIST 800-63B-4 §4.2.1.1)');
  const many = new Set(Array.from({ length: 2000 }, () => generateRecoveryKey(randomInt)));
  assert.equal(many.size, 2000);
});

test('case, spaces, dashes and the letters I, L and O are forgiven', () => {
  const key = generateRecoveryKey(randomInt);
  const sloppy = key.toLowerCase().replace(/-/g, ' ').replace(/1/g, 'l').replace(/0/g, 'o');
  assert.deepEqual(normalizeRecoveryKey(sloppy), { ok: true, key });
  assert.deepEqual(normalizeRecoveryKey(` ${key.replace(/-/g, '')} `), { ok: true, key });
});

test('every single mistyped character is caught by the check character', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 13 }), fc.integer({ min: 1, max: 31 }), (position, shift) => {
      const key = generateRecoveryKey(randomInt).replace(/-/g, '');
      const wrong = ALPHABET[(ALPHABET.indexOf(key[position] as string) + shift) % 32] as string;
      const typo = key.slice(0, position) + wrong + key.slice(position + 1);
      assert.deepEqual(normalizeRecoveryKey(typo), { ok: false, reason: 'check' });
    }),
    { numRuns: 500, seed: 2013 },
  );
});

test('the wrong length or foreign characters are a format error', () => {
  for (const raw of ['', 'ABCD-EFGH', 'ABCD-EFGH-JKMN-PQRS', 'ABCD-EFGH-JKMN-P!', 'ABCD-EFGH-JKMN-PU']) {
    assert.deepEqual(normalizeRecoveryKey(raw), { ok: false, reason: 'format' }, raw);
  }
});
