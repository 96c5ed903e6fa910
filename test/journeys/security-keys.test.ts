// Security keys and passkeys (WebAuthn; SPEC §4, SECURITY.md §D) through the JSON API, answered by a
// software authenticator that speaks the protocol (test/helpers/webauthn.ts) and checked by the real
// verifier: registration under a step-up, list with last use, removal (never the last factor), the
// second step of sign-in and step-up without any send, a passkey sign-in without the password, and
// what an attacker tries: a replayed assertion, another origin, another account's key, options made
// for another challenge, a cloned key's counter, Apple's rules (two keys before they count and replace codes,
// six at most).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, outboxFor, signInToken } from '../helpers/journeys.ts';
import { startRecovery } from '../helpers/recovery.ts';
import { postSoftKey } from '../helpers/security-keys.ts';
import { answer, enrolTwoStep, passwordStep, sendCode, smsCode, type TwoStepAccount } from '../helpers/two-step.ts';
import { type SoftKey, type SoftKeyOptions, softKey } from '../helpers/webauthn.ts';

const ORIGIN = 'http://localhost:3000';
let t: TestApp;
let apple: TestApp;
before(async () => {
  t = await startTestApp({ CODE_SEND_INTERVAL_SECONDS: '0', CODE_SENDS_PER_HOUR: '100' });
  apple = await startTestApp(
    { CODE_SEND_INTERVAL_SECONDS: '0', CODE_SENDS_PER_HOUR: '100', SECURITY_KEY_RULES: 'apple' },
    { shareDatabaseWith: t },
  );
});
after(async () => {
  await apple.close();
  await t.close();
});

async function accountWithKey(app: TestApp = t, settings: Partial<SoftKeyOptions> = {}) {
  const owner = await enrolTwoStep(app);
  const key = softKey({ origin: ORIGIN, ...settings });
  const added = await postSoftKey(app, owner.token, key);
  assert.equal(added.statusCode, 201, added.body);
  return { owner, key, keyId: added.json().securityKey.id as string };
}

async function signInChallenge(app: TestApp, owner: TwoStepAccount) {
  return passwordStep(app, owner.email, owner.password);
}

async function keyOptions(app: TestApp, challengeId: string, headers: Record<string, string> = {}) {
  return app.request({ method: 'GET', url: `/api/v1/challenges/${challengeId}/security-key`, headers });
}

async function answerWithKey(
  app: TestApp,
  challengeId: string,
  credential: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  return app.request({
    method: 'POST',
    url: `/api/v1/challenges/${challengeId}/verify`,
    headers,
    payload: { securityKey: credential },
  });
}

describe('registering a security key', () => {
  test('is listed with its name, when it was added and last used; the owner is emailed', async () => {
    const { owner, key } = await accountWithKey();
    const listed = await t.request({ method: 'GET', url: '/api/v1/security-keys', headers: bearer(owner.token) });
    assert.equal(listed.statusCode, 200);
    const [only] = listed.json().securityKeys;
    assert.equal(only.name, 'Blue key');
    assert.equal(only.passkey, false);
    assert.equal(only.lastUsedAt, null);
    assert.deepEqual([listed.json().max, listed.json().replaceCodesAt], [10, null]);
    const mails = await outboxFor(t, owner.email);
    assert.ok(mails.some((m) => m.subject === 'A security key was added' && m.body.includes('Blue key')));
    // Only the public key is stored.
    const row = await t.app.services.store.securityKeys.findByCredentialId(key.credentialId);
    assert.ok(row && row.publicKey.length > 40);
  });

  test('is a protected change: a stale verification is refused', async () => {
    const owner = await enrolTwoStep(t);
    t.clock.advance(11 * 60_000);
    const options = await t.request({
      method: 'POST',
      url: '/api/v1/security-keys/options',
      headers: bearer(owner.token),
    });
    assert.equal(options.statusCode, 403);
    assert.equal(options.json().error.code, 'STEP_UP_REQUIRED');
  });

  test('refuses an answer made for other options, another origin, a replay, or the same key twice', async () => {
    const owner = await enrolTwoStep(t);
    const key = softKey({ origin: ORIGIN });
    const options = (
      await t.request({ method: 'POST', url: '/api/v1/security-keys/options', headers: bearer(owner.token) })
    ).json().options;
    // A challenge of its own making: not one the server signed.
    const forged = key.register({ ...options, challenge: Buffer.alloc(40, 7).toString('base64url') });
    const post = (credential: unknown) =>
      t.request({
        method: 'POST',
        url: '/api/v1/security-keys',
        headers: bearer(owner.token),
        payload: { name: 'Key', credential },
      });
    assert.equal((await post(forged)).json().error.code, 'SECURITY_KEY_REJECTED');
    const phishing = softKey({ origin: 'http://localhost.evil.example' }).register(options);
    assert.equal((await post(phishing)).json().error.code, 'SECURITY_KEY_REJECTED');
    // Those options were used up by the attempt, failed or not.
    assert.equal((await post(key.register(options))).json().error.code, 'SECURITY_KEY_REJECTED');
    const fresh = (
      await t.request({ method: 'POST', url: '/api/v1/security-keys/options', headers: bearer(owner.token) })
    ).json().options;
    const good = key.register(fresh);
    assert.equal((await post(good)).statusCode, 201);
    const replay = await post(good);
    assert.equal(replay.statusCode, 400);
    assert.equal(replay.json().error.code, 'SECURITY_KEY_REJECTED');
    const again = await postSoftKey(t, owner.token, key);
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error.code, 'SECURITY_KEY_ALREADY_REGISTERED');
  });

  test('options of one session do not register a key in another', async () => {
    const owner = await enrolTwoStep(t);
    const other = (
      await t.request({
        method: 'POST',
        url: '/api/v1/signin',
        payload: { email: owner.email, password: owner.password },
      })
    ).json();
    assert.equal(other.status, 'two_step_required');
    const options = (
      await t.request({ method: 'POST', url: '/api/v1/security-keys/options', headers: bearer(owner.token) })
    ).json().options;
    await sendCode(t, other.challenge.id, other.challenge.channels[0].id);
    const second = (await answer(t, other.challenge.id, await smsCode(t, owner.phone))).json().token as string;
    const stolen = await t.request({
      method: 'POST',
      url: '/api/v1/security-keys',
      headers: bearer(second),
      payload: { name: 'Key', credential: softKey({ origin: ORIGIN }).register(options) },
    });
    assert.equal(stolen.json().error.code, 'SECURITY_KEY_REJECTED');
  });

  test('a malformed credential is a clear 400, never a 500', async () => {
    const owner = await enrolTwoStep(t);
    for (const credential of [
      {},
      { id: 'x', rawId: 'x', type: 'public-key', response: { clientDataJSON: 5 } },
      'key',
    ]) {
      const response = await t.request({
        method: 'POST',
        url: '/api/v1/security-keys',
        headers: bearer(owner.token),
        payload: { name: 'Key', credential },
      });
      assert.equal(response.statusCode, 400, response.body);
      assert.match(response.json().error.code, /^(VALIDATION_FAILED|SECURITY_KEY_REJECTED)$/);
    }
  });
});

describe('a security key as the second step', () => {
  test('signs in without any send; the key shows its last use', async () => {
    const { owner, key } = await accountWithKey();
    const challenge = await signInChallenge(t, owner);
    const channel = challenge.channels.find((c) => c.type === 'webauthn');
    assert.ok(channel, 'the key is offered as a channel');
    const options = await keyOptions(t, challenge.id);
    assert.equal(options.statusCode, 200, options.body);
    assert.equal(options.json().options.allowCredentials[0].id, key.credentialId);
    const signedIn = await answerWithKey(t, challenge.id, key.authenticate(options.json().options));
    assert.equal(signedIn.statusCode, 200, signedIn.body);
    assert.equal(signedIn.json().status, 'signed_in');
    const listed = await t.request({ method: 'GET', url: '/api/v1/security-keys', headers: bearer(owner.token) });
    assert.ok(listed.json().securityKeys[0].lastUsedAt);
  });

  test('answers a step-up', async () => {
    const { owner, key } = await accountWithKey();
    t.clock.advance(11 * 60_000);
    const started = await t.request({ method: 'POST', url: '/api/v1/step-up', headers: bearer(owner.token) });
    assert.equal(started.statusCode, 201, started.body);
    const id = started.json().challenge.id;
    const options = (await keyOptions(t, id, bearer(owner.token))).json().options;
    const done = await answerWithKey(t, id, key.authenticate(options), bearer(owner.token));
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().status, 'completed');
    const renamed = await t.request({
      method: 'PATCH',
      url: '/api/v1/me',
      headers: bearer(owner.token),
      payload: { name: 'Stepped Up' },
    });
    assert.equal(renamed.statusCode, 200, renamed.body);
  });

  test('a replayed assertion, options of another challenge, another origin and a cloned counter are refused', async () => {
    const { owner, key } = await accountWithKey();
    const first = await signInChallenge(t, owner);
    const firstOptions = (await keyOptions(t, first.id)).json().options;
    const assertion = key.authenticate(firstOptions);
    const second = await signInChallenge(t, owner);
    // Options bound to the first challenge do not answer the second.
    const crossed = await answerWithKey(t, second.id, assertion);
    assert.equal(crossed.statusCode, 400);
    assert.equal(crossed.json().error.code, 'CODE_WRONG');
    const secondOptions = (await keyOptions(t, second.id)).json().options;
    const phished = await answerWithKey(
      t,
      second.id,
      key.authenticate(secondOptions, { origin: 'http://localhost.evil.example' }),
    );
    assert.equal(phished.json().error.code, 'CODE_WRONG');
    // A clone replays a counter the server has already seen.
    const done = await answerWithKey(t, first.id, assertion);
    assert.equal(done.statusCode, 200, done.body);
    const third = await signInChallenge(t, owner);
    const thirdOptions = (await keyOptions(t, third.id)).json().options;
    const cloned = await answerWithKey(t, third.id, key.authenticate(thirdOptions, { signCount: 1 }));
    assert.equal(cloned.statusCode, 400);
    assert.equal(cloned.json().error.code, 'CODE_WRONG');
    // The first answer, replayed: nothing.
    const replayed = await answerWithKey(t, first.id, assertion);
    assert.notEqual(replayed.statusCode, 200);
  });

  test("another account's key does not answer, and its options are not given out", async () => {
    const { owner } = await accountWithKey();
    const stranger = await accountWithKey();
    const challenge = await signInChallenge(t, owner);
    const options = (await keyOptions(t, challenge.id)).json().options;
    const refused = await answerWithKey(t, challenge.id, stranger.key.authenticate(options));
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json().error.code, 'CODE_WRONG');
    // A sign-in challenge of an account without keys has no options to give.
    const plain = await enrolTwoStep(t);
    const noKeys = await signInChallenge(t, plain);
    assert.equal((await keyOptions(t, noKeys.id)).statusCode, 404);
  });

  test('exactly one of code and securityKey', async () => {
    const { owner, key } = await accountWithKey();
    const challenge = await signInChallenge(t, owner);
    const options = (await keyOptions(t, challenge.id)).json().options;
    const both = await t.request({
      method: 'POST',
      url: `/api/v1/challenges/${challenge.id}/verify`,
      payload: { code: '123456', securityKey: key.authenticate(options) },
    });
    assert.equal(both.statusCode, 400);
    assert.equal(both.json().error.code, 'VALIDATION_FAILED');
    const neither = await t.request({ method: 'POST', url: `/api/v1/challenges/${challenge.id}/verify`, payload: {} });
    assert.equal(neither.json().error.code, 'VALIDATION_FAILED');
  });

  test('concurrent copies of one assertion: exactly one session', async () => {
    const { owner, key } = await accountWithKey();
    const challenge = await signInChallenge(t, owner);
    const assertion = key.authenticate((await keyOptions(t, challenge.id)).json().options);
    const answers = await Promise.all(Array.from({ length: 10 }, () => answerWithKey(t, challenge.id, assertion)));
    assert.equal(answers.filter((a) => a.statusCode === 200).length, 1);
  });
});

describe('a security key in the recovery (forgot password on a 2SV account)', () => {
  test('the recovery key and the security key set a new password; the key alone or a foreign key do not', async () => {
    const { owner, key } = await accountWithKey();
    const stranger = await accountWithKey();
    const started = await startRecovery(t, owner.email, owner.recoveryKey);
    assert.equal(started.statusCode, 200, started.body);
    const { recoveryToken, challenge } = started.json();
    assert.ok(challenge.channels.some((c: { type: string }) => c.type === 'webauthn'));
    const optionsFor = async () =>
      (await t.request({ method: 'POST', url: '/api/v1/recovery/security-key', payload: { recoveryToken } })).json()
        .options;
    const verify = (securityKey: unknown) =>
      t.request({ method: 'POST', url: '/api/v1/recovery/verify', payload: { recoveryToken, securityKey } });
    // The key alone cannot skip ahead to the new password.
    const early = await t.request({
      method: 'POST',
      url: '/api/v1/recovery/password',
      payload: { recoveryToken, newPassword: 'a brand new passphrase here' },
    });
    assert.notEqual(early.statusCode, 200);
    const foreign = await verify(stranger.key.authenticate(await optionsFor()));
    assert.equal(foreign.json().error.code, 'CODE_WRONG');
    const verified = await verify(key.authenticate(await optionsFor()));
    assert.equal(verified.statusCode, 200, verified.body);
    const changed = await t.request({
      method: 'POST',
      url: '/api/v1/recovery/password',
      payload: { recoveryToken, newPassword: 'a brand new passphrase here' },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.ok(changed.json().recoveryKey);
  });
});

describe('a security key as the only second step', () => {
  test('turns two-step verification on by itself, signs in, and is never removed as the last factor', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email, fields.password);
    const key = softKey({ origin: ORIGIN });
    const added = await postSoftKey(t, token, key, 'Only key');
    assert.equal(added.statusCode, 201, added.body);
    const created = await t.request({ method: 'POST', url: '/api/v1/two-step/recovery-key', headers: bearer(token) });
    const steps = [
      ['/api/v1/two-step/recovery-key/confirm', { recoveryKey: created.json().recoveryKey }],
      ['/api/v1/two-step/enable', { acknowledged: true }],
    ] as const;
    for (const [url, payload] of steps) {
      const done = await t.request({ method: 'POST', url, headers: bearer(token), payload });
      assert.equal(done.statusCode, 200, done.body);
    }
    const challenge = await passwordStep(t, fields.email, fields.password);
    assert.deepEqual(
      challenge.channels.map((c) => c.type),
      ['webauthn'],
    );
    const signedIn = await answerWithKey(
      t,
      challenge.id,
      key.authenticate((await keyOptions(t, challenge.id)).json().options),
    );
    assert.equal(signedIn.statusCode, 200, signedIn.body);
    const fresh = signedIn.json().token as string;
    const refused = await t.request({
      method: 'DELETE',
      url: `/api/v1/security-keys/${added.json().securityKey.id}`,
      headers: bearer(fresh),
    });
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().error.code, 'TWO_STEP_LAST_FACTOR');
  });
});

describe('removing a security key', () => {
  test('is a protected change, emails the owner, and never removes the last factor', async () => {
    const owner = await enrolTwoStep(t);
    const key = softKey({ origin: ORIGIN });
    const keyId = (await postSoftKey(t, owner.token, key)).json().securityKey.id;
    const removed = await t.request({
      method: 'DELETE',
      url: `/api/v1/security-keys/${keyId}`,
      headers: bearer(owner.token),
    });
    assert.equal(removed.statusCode, 204);
    assert.ok((await outboxFor(t, owner.email)).some((m) => m.subject === 'A security key was removed'));
    const challenge = await signInChallenge(t, owner);
    assert.equal(challenge.channels.filter((c) => c.type === 'webauthn').length, 0);
    const again = await t.request({
      method: 'DELETE',
      url: `/api/v1/security-keys/${keyId}`,
      headers: bearer(owner.token),
    });
    assert.equal(again.statusCode, 404);
  });
});

describe('signing in with a passkey', () => {
  test('a discoverable key with user verification signs in without the password, as a two-step session', async () => {
    const { owner, key } = await accountWithKey(t, { discoverable: true });
    const listed = await t.request({ method: 'GET', url: '/api/v1/security-keys', headers: bearer(owner.token) });
    assert.equal(listed.json().securityKeys[0].passkey, true);
    const options = (await t.request({ method: 'POST', url: '/api/v1/signin/passkey/options' })).json().options;
    assert.deepEqual(options.allowCredentials, []);
    assert.equal(options.userVerification, 'required');
    const signedIn = await t.request({
      method: 'POST',
      url: '/api/v1/signin/passkey',
      payload: { credential: key.authenticate(options) },
    });
    assert.equal(signedIn.statusCode, 200, signedIn.body);
    const token = signedIn.json().token as string;
    // A two-step session: a protected change needs no step-up right after.
    const renamed = await t.request({
      method: 'PATCH',
      url: '/api/v1/me',
      headers: bearer(token),
      payload: { name: 'Pass Key' },
    });
    assert.equal(renamed.statusCode, 200, renamed.body);
  });

  test('a key that is not a passkey, one without user verification, and a replay are refused alike', async () => {
    const plain = await accountWithKey(t, { discoverable: false });
    const noUv = await accountWithKey(t, { discoverable: true, userVerified: false });
    const passkey = await accountWithKey(t, { discoverable: true });
    const options = async () =>
      (await t.request({ method: 'POST', url: '/api/v1/signin/passkey/options' })).json().options;
    const post = (credential: unknown) =>
      t.request({ method: 'POST', url: '/api/v1/signin/passkey', payload: { credential } });
    for (const credential of [plain.key.authenticate(await options()), noUv.key.authenticate(await options())]) {
      const refused = await post(credential);
      assert.equal(refused.statusCode, 401, refused.body);
      assert.equal(refused.json().error.code, 'INVALID_CREDENTIALS');
    }
    const good = passkey.key.authenticate(await options());
    assert.equal((await post(good)).statusCode, 200);
    assert.equal((await post(good)).json().error.code, 'INVALID_CREDENTIALS');
  });

  test('is off with PASSKEY_SIGN_IN=false', async () => {
    const off = await startTestApp({ PASSKEY_SIGN_IN: 'false' }, { shareDatabaseWith: t });
    try {
      const response = await off.request({ method: 'POST', url: '/api/v1/signin/passkey/options' });
      assert.equal(response.statusCode, 404);
    } finally {
      await off.close();
    }
  });
});

describe("Apple's rules (SECURITY_KEY_RULES=apple)", () => {
  test('a single key is no second step: the last phone stays until a second key is added', async () => {
    const owner = await enrolTwoStep(apple);
    const phones = await apple.request({ method: 'GET', url: '/api/v1/phones', headers: bearer(owner.token) });
    const phoneId = phones.json().phones[0].id as string;
    const removePhone = () =>
      apple.request({ method: 'DELETE', url: `/api/v1/phones/${phoneId}`, headers: bearer(owner.token) });
    assert.equal((await postSoftKey(apple, owner.token, softKey({ origin: ORIGIN }))).statusCode, 201);
    const refused = await removePhone();
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().error.code, 'TWO_STEP_LAST_FACTOR');
    assert.equal((await postSoftKey(apple, owner.token, softKey({ origin: ORIGIN }))).statusCode, 201);
    assert.equal((await removePhone()).statusCode, 204, 'two keys answer the second step');
  });

  test('one key does not count yet; from the second, keys replace codes; six at most', async () => {
    const owner = await enrolTwoStep(apple);
    const keys = Array.from({ length: 7 }, () => softKey({ origin: ORIGIN }));
    assert.equal((await postSoftKey(apple, owner.token, keys[0] as SoftKey)).statusCode, 201);
    const withOne = await signInChallenge(apple, owner);
    assert.deepEqual(
      withOne.channels.map((c) => c.type),
      ['sms'],
      'a single key is not offered',
    );
    assert.equal((await postSoftKey(apple, owner.token, keys[1] as SoftKey)).statusCode, 201);
    const withTwo = await signInChallenge(apple, owner);
    assert.deepEqual(
      withTwo.channels.map((c) => c.type),
      ['webauthn', 'webauthn'],
    );
    // No code is sent, and none is accepted.
    const send = await sendCode(apple, withTwo.id, `sms:${owner.phone}`);
    assert.equal(send.statusCode, 400);
    const typed = await answer(apple, withTwo.id, '123456');
    assert.equal(typed.statusCode, 403);
    assert.equal(typed.json().error.code, 'SECURITY_KEY_REQUIRED');
    const options = (await keyOptions(apple, withTwo.id)).json().options;
    const signedIn = await answerWithKey(apple, withTwo.id, (keys[1] as SoftKey).authenticate(options));
    assert.equal(signedIn.statusCode, 200, signedIn.body);
    for (const key of keys.slice(2, 6)) assert.equal((await postSoftKey(apple, owner.token, key)).statusCode, 201);
    const seventh = await apple.request({
      method: 'POST',
      url: '/api/v1/security-keys/options',
      headers: bearer(owner.token),
    });
    assert.equal(seventh.statusCode, 409);
    assert.equal(seventh.json().error.code, 'SECURITY_KEY_LIMIT');
  });
});
