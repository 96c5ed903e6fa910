// The keyring of TWOSTEP_SECRET and TWOSTEP_SECRET_PREVIOUS (core/secrets.ts): new things are keyed
// and sealed with the current secret only; the previous ones verify and unseal, in order; a secret
// that is in neither verifies and unseals nothing. The WebAuthn ceremony challenge is the keyed value
// the app tests do not reach without a browser, so it is checked here.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { newCeremonyChallenge, readCeremonyChallenge } from '../../src/core/ceremony-challenge.ts';
import { codeMatches, hashCode } from '../../src/core/codes.ts';
import { keyring } from '../../src/core/secrets.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

test('the current secret keys and seals; previous ones (comma-separated, trimmed) only verify and unseal', () => {
  const ring = keyring({ secret: C, secretPrevious: ` ${B} , ${A},,${C}` });
  assert.equal(ring.current, C);
  assert.deepEqual(ring.all, [C, B, A], 'the current first; a previous equal to it is not tried twice');
  const sealed = ring.seal('purpose', 'plain');
  assert.deepEqual(keyring({ secret: C }).unsealAny('purpose', sealed), { plaintext: 'plain', stale: false });
  assert.equal(keyring({ secret: B }).unsealAny('purpose', sealed), undefined, 'not sealed with a previous one');
});

test('a value sealed under a previous secret opens, marked stale; under an unknown one it does not open', () => {
  const ring = keyring({ secret: C, secretPrevious: `${B},${A}` });
  assert.deepEqual(ring.unsealAny('p', keyring({ secret: A }).seal('p', 'x')), { plaintext: 'x', stale: true });
  assert.deepEqual(ring.unsealAny('p', keyring({ secret: B }).seal('p', 'y')), { plaintext: 'y', stale: true });
  assert.equal(ring.unsealAny('p', keyring({ secret: 'd'.repeat(40) }).seal('p', 'z')), undefined);
  assert.equal(ring.unsealAny('other purpose', keyring({ secret: A }).seal('p', 'x')), undefined);
  assert.equal(ring.unsealAny('p', 'v1.garbage'), undefined);
});

test('a code hashed under a previous secret verifies; under an unknown one it does not', () => {
  const ring = keyring({ secret: C, secretPrevious: A });
  const stored = hashCode(A, 'challenge-1', '123456');
  assert.ok(ring.verifyAny((secret) => codeMatches(secret, 'challenge-1', '123456', stored)));
  assert.ok(!ring.verifyAny((secret) => codeMatches(secret, 'challenge-1', '654321', stored)));
  assert.ok(!keyring({ secret: C }).verifyAny((secret) => codeMatches(secret, 'challenge-1', '123456', stored)));
});

test('a WebAuthn ceremony challenge made under a previous secret reads back until it expires', () => {
  const now = new Date('2026-12-04T12:00:00Z');
  const expires = new Date(now.getTime() + 5 * 60_000);
  const nonce = new Uint8Array(randomBytes(16));
  const challenge = Buffer.from(newCeremonyChallenge(A, 'registration:s1', expires, nonce)).toString('base64url');
  const read = (secrets: { secret: string; secretPrevious?: string }, at: Date, binding = 'registration:s1') =>
    keyring(secrets).readAny((secret) => readCeremonyChallenge(secret, binding, challenge, at));
  assert.equal(read({ secret: C, secretPrevious: A }, now), Buffer.from(nonce).toString('base64url'));
  assert.equal(read({ secret: C }, now), undefined, 'without the previous secret');
  assert.equal(read({ secret: C, secretPrevious: A }, expires), undefined, 'expired');
  assert.equal(read({ secret: C, secretPrevious: A }, now, 'registration:s2'), undefined, 'another binding');
});
