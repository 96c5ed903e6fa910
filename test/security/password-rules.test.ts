// An attacker hopes users pick guessable passwords, or that the server truncates, mangles or weakly
// hashes them (SECURITY.md items 1–5, SPEC §5): 8 to 256 code points, never truncated, NFKC,
// no composition rules, a blocklist of common passwords and of the account's own words,
// argon2id at m ≥ 19456 KiB, t ≥ 2, p = 1 with a unique salt, upgraded at sign-in.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { hash } from '@node-rs/argon2';
import type { TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, signInToken, signUpFields } from '../helpers/journeys.ts';
import { assertErrorContract, startTestApp } from './support.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(() => t.close());

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=1\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

async function refusedWith(password: string, code: string, overrides: Parameters<typeof signUpFields>[0] = {}) {
  const fields = signUpFields({ ...overrides, password });
  const response = await t.request({ method: 'POST', url: '/api/v1/signup', payload: fields });
  assert.equal(assertErrorContract(response, JSON.stringify(password)), code, JSON.stringify(password));
  const row = await t.database.db
    .selectFrom('accounts')
    .select('id')
    .where('email', '=', fields.email)
    .executeTakeFirst();
  assert.equal(row, undefined, 'a refused sign-up leaves no account');
}

async function signIn(email: string, password: string): Promise<number> {
  return (await t.request({ method: 'POST', url: '/api/v1/signin', payload: { email, password } })).statusCode;
}

async function storedHash(email: string): Promise<string> {
  const row = await t.database.db
    .selectFrom('accounts')
    .select('password_hash')
    .where('email', '=', email)
    .executeTakeFirstOrThrow();
  return row.password_hash;
}

describe('length, counted in Unicode code points, never truncated', () => {
  test('7 characters are refused, 8 accepted', async () => {
    await refusedWith('vK7#qz9', 'PASSWORD_TOO_SHORT');
    await refusedWith('🦊🌵🎺🧀🚲🌋🦉', 'PASSWORD_TOO_SHORT'); // 7 code points, 14 UTF-16 units
    const fields = await createVerifiedAccount(t, { password: 'vK7#qz9!' });
    assert.equal(await signIn(fields.email, 'vK7#qz9!'), 200);
  });

  test('64, 200 and 256 characters and emoji are accepted; 257 is refused', async () => {
    const phrase = 'violet tractor sings loudly over the quiet harbour at dawn, 42! ';
    const accepted = [
      phrase.slice(0, 64),
      phrase.repeat(4).slice(0, 200),
      phrase.repeat(4).slice(0, 256),
      '🦊🌵🎺🧀🚲🌋🦉🍄',
      '🦊🌵🎺🧀🚲🌋🦉🍄'.repeat(32), // 256 code points, 512 UTF-16 units
      ' leading and trailing spaces are part of it ',
    ];
    for (const password of accepted) {
      const fields = await createVerifiedAccount(t, { password });
      assert.equal(await signIn(fields.email, password), 200, `${[...password].length}: ${password}`);
    }
    await refusedWith(phrase.repeat(5).slice(0, 257), 'PASSWORD_TOO_LONG');
    await refusedWith(`${'🦊🌵🎺🧀🚲🌋🦉🍄'.repeat(32)}🦊`, 'PASSWORD_TOO_LONG');
  });

  test('a long password with any one character changed, dropped or added fails sign-in', async () => {
    const password = 'a long passphrase of exactly sixty-four characters is fine: ok!!';
    assert.equal([...password].length, 64);
    const fields = await createVerifiedAccount(t, { password });
    const long = `${'saffron pebble wanders '.repeat(9)}end`.slice(0, 200);
    const longFields = await createVerifiedAccount(t, { password: long });
    const variants: [string, string][] = [
      [fields.email, `${password.slice(0, -1)}?`],
      [fields.email, `X${password.slice(1)}`],
      [fields.email, password.slice(0, -1)],
      [fields.email, `${password}!`],
      // Past 72 bytes (where bcrypt would stop reading) a difference still counts.
      [longFields.email, `${long.slice(0, 150)}#${long.slice(151)}`],
      [longFields.email, long.slice(0, 199)],
    ];
    for (const [email, variant] of variants) {
      assert.equal(await signIn(email, variant), 401, JSON.stringify(variant));
    }
    assert.equal(await signIn(fields.email, password), 200);
    assert.equal(await signIn(longFields.email, long), 200);
  });

  test('NFKC-equivalent spellings of a password are the same password', async () => {
    // Decomposed é and the "ﬁ" ligature at sign-up; precomposed é and plain "fi" at sign-in.
    const typed = 'ﬁrefly lantern cafe\u0301 quietly';
    const fields = await createVerifiedAccount(t, { password: typed });
    assert.equal(await signIn(fields.email, 'firefly lantern caf\u00e9 quietly'), 200);
    const wide = await createVerifiedAccount(t, { password: 'ｍｏｏｎｌｉｔ ｈａｒｂｏｕｒ ７７' });
    assert.equal(await signIn(wide.email, 'moonlit harbour 77'), 200);
    assert.equal(await signIn(wide.email, 'moonlit harbour 78'), 401);
  });
});

describe('no composition rules, no hints', () => {
  test('a long lowercase passphrase without digits or symbols is accepted', async () => {
    const fields = await createVerifiedAccount(t, { password: 'lowercase words only make a fine passphrase' });
    assert.equal(await signIn(fields.email, fields.password), 200);
  });

  test('the API has no password hint or security question', async () => {
    const hinted = await t.request({
      method: 'POST',
      url: '/api/v1/signup',
      payload: { ...signUpFields(), passwordHint: 'my cat' },
    });
    assert.equal(assertErrorContract(hinted), 'VALIDATION_FAILED');
    const doc = JSON.stringify((await t.request({ method: 'GET', url: '/docs/json' })).json());
    assert.doesNotMatch(doc, /hint|security.?question|secret.?question/i);
  });
});

describe('blocklist', () => {
  test('common passwords and their decorated forms are refused with PASSWORD_COMMON', async () => {
    const list = readFileSync(new URL('../../assets/common-passwords.txt', import.meta.url), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => [...line].length >= 8);
    assert.ok(list.length > 3000, 'the blocklist covers at least the top 3,000 (ASVS 6.2.4)');
    // Spread over the whole list, from the most common to the tail.
    const sample = Array.from({ length: 25 }, (_, i) => list[Math.floor((i * (list.length - 1)) / 24)] as string);
    for (const password of ['password123456789', 'Password123456789', '!!password2024!!', ...sample]) {
      await refusedWith(password, 'PASSWORD_COMMON');
    }
  });

  test('passwords built from the name, the email or the service are refused', async () => {
    const email = 'zebulon.quartermaine@example.com';
    const name = 'Ophelia Brightwater';
    for (const password of ['zebulon loves the sea', 'QUARTERMAINE at the helm', 'brightwater in the morning']) {
      await refusedWith(password, 'PASSWORD_CONTAINS_PERSONAL_INFO', { email, name });
    }
    await refusedWith('twostep keeps me safe', 'PASSWORD_CONTAINS_PERSONAL_INFO');
  });

  test('changing the password applies the same rules, and needs the current one', async () => {
    const fields = await createVerifiedAccount(t, { name: 'Rosalind Featherstone' });
    const token = await signInToken(t, fields.email);
    const change = (payload: Record<string, string>) =>
      t.request({ method: 'POST', url: '/api/v1/password', headers: bearer(token), payload });
    const cases: [Record<string, string>, string][] = [
      [{ newPassword: 'a brand new passphrase' }, 'VALIDATION_FAILED'],
      [{ currentPassword: '', newPassword: 'a brand new passphrase' }, 'CURRENT_PASSWORD_WRONG'],
      [{ currentPassword: fields.password, newPassword: 'short1!' }, 'PASSWORD_TOO_SHORT'],
      [{ currentPassword: fields.password, newPassword: 'password123456789' }, 'PASSWORD_COMMON'],
      [
        { currentPassword: fields.password, newPassword: 'featherstone forever more' },
        'PASSWORD_CONTAINS_PERSONAL_INFO',
      ],
      [{ currentPassword: fields.password, newPassword: 'x'.repeat(257) }, 'PASSWORD_TOO_LONG'],
    ];
    const before = await storedHash(fields.email);
    for (const [payload, code] of cases) {
      assert.equal(assertErrorContract(await change(payload), code), code, JSON.stringify(payload));
    }
    assert.equal(await storedHash(fields.email), before, 'a refused change leaves the hash alone');
  });
});

describe('storage', () => {
  test('the hash is argon2id with m ≥ 19456 KiB, t ≥ 2, p = 1 and a salt of ≥ 128 bits', async () => {
    const fields = await createVerifiedAccount(t);
    const stored = await storedHash(fields.email);
    const match = PHC.exec(stored);
    assert.ok(match, stored);
    assert.ok(Number(match[1]) >= 19456, `m=${match[1]}`);
    assert.ok(Number(match[2]) >= 2, `t=${match[2]}`);
    assert.ok(Buffer.from(match[3] as string, 'base64').length >= 16, 'salt');
    assert.ok(!stored.includes(fields.password));
  });

  test('two accounts with the same password get different hashes (unique salts)', async () => {
    const a = await createVerifiedAccount(t, { password: 'shared passphrase for two' });
    const b = await createVerifiedAccount(t, { password: 'shared passphrase for two' });
    const [hashA, hashB] = [await storedHash(a.email), await storedHash(b.email)];
    assert.notEqual(hashA, hashB);
    assert.notEqual(PHC.exec(hashA)?.[3], PHC.exec(hashB)?.[3], 'salts differ');
  });

  test('a weaker stored hash is replaced by one at the current cost when its owner signs in', async () => {
    const fields = await createVerifiedAccount(t);
    // As if written under an older, cheaper policy.
    const weak = await hash(fields.password.normalize('NFKC'), {
      algorithm: 2,
      memoryCost: 8192,
      timeCost: 1,
      parallelism: 1,
    });
    assert.match(weak, /m=8192,t=1,p=1/);
    const before = await t.database.db
      .selectFrom('accounts')
      .select('password_changed_at')
      .where('email', '=', fields.email)
      .executeTakeFirstOrThrow();
    await t.database.db
      .updateTable('accounts')
      .set({ password_hash: weak })
      .where('email', '=', fields.email)
      .execute();

    assert.equal(await signIn(fields.email, 'not the password at all'), 401, 'a wrong password upgrades nothing');
    assert.equal(await storedHash(fields.email), weak);
    assert.equal(await signIn(fields.email, fields.password), 200);
    const upgraded = await storedHash(fields.email);
    assert.notEqual(upgraded, weak);
    const match = PHC.exec(upgraded);
    assert.ok(match && Number(match[1]) >= 19456 && Number(match[2]) >= 2, upgraded);
    assert.equal(await signIn(fields.email, fields.password), 200, 'the upgraded hash verifies the same password');
    const after = await t.database.db
      .selectFrom('accounts')
      .select('password_changed_at')
      .where('email', '=', fields.email)
      .executeTakeFirstOrThrow();
    assert.deepEqual(after.password_changed_at, before.password_changed_at, 'an upgrade is not a password change');
  });
});
