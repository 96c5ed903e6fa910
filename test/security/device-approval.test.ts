// Approve by push (SPEC §4): with number matching, the trusted device that picked the right number
// may approve the request with its device key instead of showing a code; the browser that asked then
// answers with {approved: true}. What attackers try is refused: a signature by another key, a device
// of another account, approving before the right pick, using an approval twice, for another
// challenge or after the challenge expired, and two concurrent answers with one approval.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createDeviceKeys, signApproval } from '../../src/device/keys.ts';
import { startListeningTestApp, type TestApp } from '../helpers/app.ts';
import { type LiveDevice, ownerWithTrustedDevice, type PairedDevice } from '../helpers/devices.ts';
import { bearer } from '../helpers/journeys.ts';
import { answer, passwordStep, sendCode } from '../helpers/two-step.ts';

let t: TestApp & { baseUrl: string };
before(async () => {
  t = await startListeningTestApp({ NUMBER_MATCHING: 'true', CODE_SEND_INTERVAL_SECONDS: '0' });
});
after(() => t.close());

/** The password step and a push to the devices: the challenge and the number the browser shows. */
async function pushedMatch(email: string, password: string) {
  const challenge = await passwordStep(t, email, password);
  const sent = await sendCode(t, challenge.id, 'device');
  assert.equal(sent.statusCode, 202, sent.body);
  return { challengeId: challenge.id, matchNumber: sent.json().matchNumber as number };
}

/** The device picks the right number and receives the code, which says it may approve. */
async function pickRight(device: LiveDevice, challengeId: string, matchNumber: number) {
  await device.next((m) => m.type === 'match' && m.challengeId === challengeId);
  device.connection.send({ type: 'match', challengeId, number: matchNumber });
  const push = await device.next((m) => m.type === 'code' && m.challengeId === challengeId);
  assert.equal(push.matched, matchNumber, 'the code push tells the device it may approve');
  return push;
}

/** Sends "Approve" and waits for the server's answer to it. */
async function approve(device: LiveDevice, challengeId: string, signature: string) {
  const seen = device.messages.length;
  device.connection.send({ type: 'approve', challengeId, signature });
  return device.next(
    (m) =>
      device.messages.indexOf(m) >= seen &&
      m.challengeId === challengeId &&
      (m.type === 'approved' || m.type === 'error'),
  );
}

const approvedAnswer = (challengeId: string, headers: Record<string, string> = {}) =>
  t.request({ method: 'POST', url: `/api/v1/challenges/${challengeId}/verify`, headers, payload: { approved: true } });

const approvalStatus = async (challengeId: string) =>
  (await t.request({ method: 'GET', url: `/api/v1/challenges/${challengeId}/approval` })).json();

async function auditFor(email: string) {
  const account = await t.app.services.store.accounts.findByEmail(email);
  return t.app.services.store.audit.listForAccount(account?.id as string, { limit: 100 });
}

async function sessionCount(token: string): Promise<number> {
  return (await t.request({ method: 'GET', url: '/api/v1/sessions', headers: bearer(token) })).json().sessions.length;
}

async function withOwner(
  run: (o: Awaited<ReturnType<typeof ownerWithTrustedDevice>> & { paired: PairedDevice }) => Promise<void>,
) {
  const owner = await ownerWithTrustedDevice(t);
  try {
    await run(owner);
  } finally {
    owner.device.connection.close();
  }
}

describe('approve by push', () => {
  test('after the right pick the device approves; {approved: true} then signs in, recorded with the device as actor', () =>
    withOwner(async ({ owner, device, paired }) => {
      const { challengeId, matchNumber } = await pushedMatch(owner.email, owner.password);
      await pickRight(device, challengeId, matchNumber);
      assert.deepEqual(await approvalStatus(challengeId), { approved: false });
      const reply = await approve(
        device,
        challengeId,
        signApproval(paired.keys.privateKeyPem, challengeId, matchNumber),
      );
      assert.equal(reply.type, 'approved', JSON.stringify(reply));
      assert.deepEqual(await approvalStatus(challengeId), { approved: true });
      const signedIn = await approvedAnswer(challengeId);
      assert.equal(signedIn.statusCode, 200, signedIn.body);
      assert.equal(signedIn.json().status, 'signed_in');
      const me = await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(signedIn.json().token) });
      assert.equal(me.statusCode, 200, me.body);
      await device.next((m) => m.type === 'cancelled' && m.challengeId === challengeId && m.reason === 'answered');
      const audit = await auditFor(owner.email);
      const approved = audit.find((e) => e.event === 'challenge.approved');
      assert.equal(approved?.actor, `device:${paired.id}`);
      assert.ok(audit.some((e) => e.event === 'challenge.completed' && e.details?.by === 'approval'));
    }));

  test('step-up is approved the same way', () =>
    withOwner(async ({ owner, device, paired }) => {
      const started = await t.request({ method: 'POST', url: '/api/v1/step-up', headers: bearer(owner.token) });
      const challengeId = started.json().challenge.id as string;
      const sent = await sendCode(t, challengeId, 'device', bearer(owner.token));
      const matchNumber = sent.json().matchNumber as number;
      await pickRight(device, challengeId, matchNumber);
      await approve(device, challengeId, signApproval(paired.keys.privateKeyPem, challengeId, matchNumber));
      const done = await approvedAnswer(challengeId, bearer(owner.token));
      assert.equal(done.statusCode, 200, done.body);
      assert.deepEqual(done.json(), { status: 'completed', purpose: 'step_up' });
    }));

  test('the answer is a code or {approved: true}, exactly one of them', () =>
    withOwner(async ({ owner }) => {
      const { challengeId } = await pushedMatch(owner.email, owner.password);
      for (const payload of [{}, { code: '123456', approved: true }]) {
        const refused = await t.request({ method: 'POST', url: `/api/v1/challenges/${challengeId}/verify`, payload });
        assert.equal(refused.json().error.code, 'VALIDATION_FAILED', JSON.stringify(payload));
      }
    }));

  test('before the right pick nothing can be approved, and asking is refused without costing an attempt', () =>
    withOwner(async ({ owner, device, paired }) => {
      const { challengeId, matchNumber } = await pushedMatch(owner.email, owner.password);
      await device.next((m) => m.type === 'match' && m.challengeId === challengeId);
      const early = await approve(
        device,
        challengeId,
        signApproval(paired.keys.privateKeyPem, challengeId, matchNumber),
      );
      assert.deepEqual([early.type, early.code], ['error', 'NOT_FOUND']);
      const before = await t.app.services.store.challenges.find(challengeId);
      for (let i = 0; i < 8; i += 1) {
        const refused = await approvedAnswer(challengeId);
        assert.equal(refused.statusCode, 409, refused.body);
        assert.equal(refused.json().error.code, 'NOT_APPROVED');
        assert.equal(refused.headers['set-cookie'], undefined, 'no session');
      }
      const afterwards = await t.app.services.store.challenges.find(challengeId);
      assert.equal(afterwards?.failedAttempts, before?.failedAttempts, 'not counted as wrong attempts');
      // The right pick and approval still work afterwards.
      await pickRight(device, challengeId, matchNumber);
      await approve(device, challengeId, signApproval(paired.keys.privateKeyPem, challengeId, matchNumber));
      assert.equal((await approvedAnswer(challengeId)).statusCode, 200);
    }));

  test('a wrong pick still cancels; the request cannot be approved after it', () =>
    withOwner(async ({ owner, device, paired }) => {
      const { challengeId, matchNumber } = await pushedMatch(owner.email, owner.password);
      const match = await device.next((m) => m.type === 'match' && m.challengeId === challengeId);
      const wrong = (match.choices as number[]).find((n) => n !== matchNumber) as number;
      device.connection.send({ type: 'match', challengeId, number: wrong });
      await device.next((m) => m.type === 'denied' && m.challengeId === challengeId);
      for (const number of [wrong, matchNumber]) {
        const late = await approve(device, challengeId, signApproval(paired.keys.privateKeyPem, challengeId, number));
        assert.equal(late.code, 'NOT_FOUND');
      }
      assert.equal((await approvedAnswer(challengeId)).json().error.code, 'CHALLENGE_CLOSED');
    }));

  test('a signature by another key, or over another challenge or number, approves nothing', () =>
    withOwner(async ({ owner, device, paired }) => {
      const other = await pushedMatch(owner.email, owner.password);
      const { challengeId, matchNumber } = await pushedMatch(owner.email, owner.password);
      await pickRight(device, challengeId, matchNumber);
      const forgeries = [
        signApproval(createDeviceKeys().privateKeyPem, challengeId, matchNumber),
        signApproval(paired.keys.privateKeyPem, other.challengeId, matchNumber),
        signApproval(paired.keys.privateKeyPem, challengeId, matchNumber === 99 ? 98 : matchNumber + 1),
        'not-a-signature',
      ];
      for (const signature of forgeries) {
        const refused = await approve(device, challengeId, signature);
        assert.deepEqual([refused.type, refused.code], ['error', 'DEVICE_AUTH_FAILED']);
      }
      assert.deepEqual(await approvalStatus(challengeId), { approved: false });
      assert.equal((await approvedAnswer(challengeId)).json().error.code, 'NOT_APPROVED');
      assert.ok(!(await auditFor(owner.email)).some((e) => e.event === 'challenge.approved'));
    }));

  test('a trusted device of another account can neither pick nor approve', async () => {
    const victim = await ownerWithTrustedDevice(t, 'Victim phone');
    const attacker = await ownerWithTrustedDevice(t, 'Attacker phone');
    try {
      const { challengeId, matchNumber } = await pushedMatch(victim.owner.email, victim.owner.password);
      await victim.device.next((m) => m.type === 'match' && m.challengeId === challengeId);
      attacker.device.connection.send({ type: 'match', challengeId, number: matchNumber });
      await attacker.device.next((m) => m.type === 'error' && m.challengeId === challengeId);
      const refused = await approve(
        attacker.device,
        challengeId,
        signApproval(attacker.paired.keys.privateKeyPem, challengeId, matchNumber),
      );
      assert.equal(refused.code, 'NOT_FOUND');
      assert.equal((await approvedAnswer(challengeId)).json().error.code, 'NOT_APPROVED');
    } finally {
      victim.device.connection.close();
      attacker.device.connection.close();
    }
  });

  test('an approval is used once, only for its own challenge', () =>
    withOwner(async ({ owner, device, paired }) => {
      const other = await pushedMatch(owner.email, owner.password);
      const { challengeId, matchNumber } = await pushedMatch(owner.email, owner.password);
      await pickRight(device, challengeId, matchNumber);
      const signature = signApproval(paired.keys.privateKeyPem, challengeId, matchNumber);
      assert.equal((await approve(device, challengeId, signature)).type, 'approved');
      assert.equal((await approve(device, challengeId, signature)).code, 'NOT_FOUND', 'the device approves once');
      assert.equal((await approvedAnswer(other.challengeId)).json().error.code, 'NOT_APPROVED');
      assert.equal((await approvedAnswer(challengeId)).statusCode, 200);
      const again = await approvedAnswer(challengeId);
      assert.equal(again.json().error.code, 'CHALLENGE_CLOSED');
      assert.equal(again.headers['set-cookie'], undefined);
    }));

  test('after the challenge expired an approval is refused, on either side', () =>
    withOwner(async ({ owner, device, paired }) => {
      const lifetime = t.config.policy.codeLifetimeMinutes * 60_000;
      const approvedFirst = await pushedMatch(owner.email, owner.password);
      await pickRight(device, approvedFirst.challengeId, approvedFirst.matchNumber);
      const late = await pushedMatch(owner.email, owner.password);
      await pickRight(device, late.challengeId, late.matchNumber);
      const first = signApproval(paired.keys.privateKeyPem, approvedFirst.challengeId, approvedFirst.matchNumber);
      assert.equal((await approve(device, approvedFirst.challengeId, first)).type, 'approved');
      t.clock.advance(lifetime + 1000);
      const refused = await approvedAnswer(approvedFirst.challengeId);
      assert.equal(refused.statusCode, 400, refused.body);
      assert.equal(refused.json().error.code, 'CODE_EXPIRED');
      const tooLate = await approve(
        device,
        late.challengeId,
        signApproval(paired.keys.privateKeyPem, late.challengeId, late.matchNumber),
      );
      assert.equal(tooLate.code, 'NOT_FOUND');
    }));

  test('two concurrent answers with one approval make exactly one session', () =>
    withOwner(async ({ owner, device, paired }) => {
      const { challengeId, matchNumber } = await pushedMatch(owner.email, owner.password);
      await pickRight(device, challengeId, matchNumber);
      await approve(device, challengeId, signApproval(paired.keys.privateKeyPem, challengeId, matchNumber));
      const sessionsBefore = await sessionCount(owner.token);
      const answers = await Promise.all([approvedAnswer(challengeId), approvedAnswer(challengeId)]);
      const codes = answers.map((a) => a.statusCode).sort();
      assert.equal(codes.filter((c) => c === 200).length, 1, answers.map((a) => a.body).join('\n'));
      assert.equal(answers.filter((a) => a.json().token).length, 1);
      assert.equal(await sessionCount(owner.token), sessionsBefore + 1);
    }));
});

describe('a typed code still works next to approving', () => {
  test('the code released by the right pick signs in as before', () =>
    withOwner(async ({ owner, device }) => {
      const { challengeId, matchNumber } = await pushedMatch(owner.email, owner.password);
      const push = await pickRight(device, challengeId, matchNumber);
      assert.equal((await answer(t, challengeId, String(push.code))).statusCode, 200);
    }));
});
