// Alarms the operator sees (SECURITY.md items 9 and 40): a credential-stuffing flood from rotating
// addresses passes every per-address and per-account throttle, and SMS pumping spread thin stays
// under every per-source budget; both must still raise an alarm. Counted server-wide per clock hour
// in the key-value store: raised once per window over all nodes (a log line at level error with a
// stable `alarm` field and nothing about any user, twostep_alarms_total, an email to ALARM_EMAIL),
// never before the threshold, never in the way of the request that was counted.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { RawSettings } from '../../src/config.ts';
import { HOUR, systemClock } from '../../src/core/clock.ts';
import { MemoryKeyValue } from '../../src/store/kv/memory.ts';
import { startTestApp, type TestApp, type TestAppOptions, uniqueEmail } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, outboxFor, signInToken } from '../helpers/journeys.ts';
import { enrolTwoStep, passwordStep, sendCode } from '../helpers/two-step.ts';

// One database for the file; each test starts its own app on it, with its own thresholds and counters.
let base: TestApp;
before(async () => {
  base = await startTestApp();
});
after(() => base.close());

function appWith(settings: RawSettings, options: TestAppOptions = {}): Promise<TestApp> {
  return startTestApp(
    // Each app its own operator: the outbox is the file's shared database.
    {
      ALARM_EMAIL: `ops.${randomBytes(4).toString('hex')}@operator.example`,
      CODE_SEND_INTERVAL_SECONDS: '0',
      CODE_SENDS_PER_HOUR: '100',
      ...settings,
    },
    { shareDatabaseWith: base, ...options },
  );
}

/** Distinct documentation addresses (RFC 5737): every attempt of the flood from another one. */
let nextAddress = 0;
function rotatingAddress(): string {
  nextAddress += 1;
  return `203.0.${Math.floor(nextAddress / 250)}.${(nextAddress % 250) + 1}`;
}

function signIn(t: TestApp, email: string, password: string, ip: string): Promise<LightMyRequestResponse> {
  return t.request({ method: 'POST', url: '/api/v1/signin', remoteAddress: ip, payload: { email, password } });
}

type LogLine = Record<string, unknown> & { level: number; msg: string };

function logLines(t: TestApp): { line: LogLine; raw: string }[] {
  return t
    .logText()
    .split('\n')
    .filter((raw) => raw.trim() !== '')
    .map((raw) => ({ line: JSON.parse(raw) as LogLine, raw }));
}

/** The raised alarms in an app's log (the background work counted first). */
async function alarmsIn(t: TestApp): Promise<{ line: LogLine; raw: string }[]> {
  await t.app.services.background.drain();
  return logLines(t).filter(({ line }) => line.alarm !== undefined);
}

async function alarmMetric(t: TestApp, kind: string): Promise<number> {
  const text = (await t.request({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`twostep_alarms_total{kind="${kind}"} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function operatorEmails(t: TestApp): Promise<{ subject?: string; body: string }[]> {
  await t.app.services.background.drain();
  return outboxFor(t, t.config.alarmEmail ?? '');
}

/** The fields of an alarm line, exactly: nothing about who or where could slip in beside them. */
const ALARM_FIELDS = [
  'alarm',
  'count',
  'hostname',
  'level',
  'msg',
  'pid',
  'since',
  'threshold',
  'time',
  'windowMinutes',
];

describe('failed sign-ins in all', () => {
  test('200 wrong passwords over many accounts from rotating addresses pass the throttle but raise signin_failures once, at the threshold', async () => {
    const t = await appWith({ ALARM_FAILED_SIGNINS_PER_HOUR: '150' });
    try {
      // 20 real accounts, 5 wrong passwords each (what the account throttle lets through), and 100
      // emails with no account: a stuffing list is mostly that.
      const accounts = [];
      for (let i = 0; i < 20; i += 1) accounts.push(await createVerifiedAccount(t));
      const guesses: { email: string; password: string; ip: string }[] = [];
      for (let round = 0; round < 5; round += 1) {
        for (const account of accounts) {
          guesses.push({ email: account.email, password: `leaked ${round} ${account.email}`, ip: rotatingAddress() });
          guesses.push({ email: uniqueEmail('listed'), password: `leaked ${round} elsewhere`, ip: rotatingAddress() });
        }
      }
      assert.equal(guesses.length, 200);
      const flood = async (from: number, to: number): Promise<void> => {
        for (const guess of guesses.slice(from, to)) {
          const response = await signIn(t, guess.email, guess.password, guess.ip);
          assert.equal(response.statusCode, 401, `no throttle stops this flood: ${response.body}`);
        }
      };

      await flood(0, 150);
      assert.deepEqual(await alarmsIn(t), [], 'no alarm at the threshold');
      assert.equal(await alarmMetric(t, 'signin_failures'), 0);
      assert.equal((await operatorEmails(t)).length, 0);

      await flood(150, 151);
      const raised = await alarmsIn(t);
      assert.equal(raised.length, 1, 'the first failure past the threshold raises it');
      await flood(151, 200);
      const [alarm, ...more] = await alarmsIn(t);
      assert.ok(alarm);
      assert.deepEqual(more, [], 'raised once in the hour, however long the flood goes on');
      assert.equal(alarm.line.level, 50, 'level error');
      assert.equal(alarm.line.alarm, 'signin_failures');
      assert.equal(alarm.line.count, 151);
      assert.equal(alarm.line.threshold, 150);
      assert.equal(alarm.line.windowMinutes, 60);
      assert.deepEqual(Object.keys(alarm.line).sort(), ALARM_FIELDS);
      for (const guess of guesses) {
        assert.ok(!alarm.raw.includes(guess.email), 'no email in the alarm line');
        assert.ok(!alarm.raw.includes(guess.ip), 'no address in the alarm line');
        assert.ok(!alarm.raw.includes(guess.password), 'no password in the alarm line');
      }
      assert.ok(!alarm.raw.includes('@'), alarm.raw);

      assert.equal(await alarmMetric(t, 'signin_failures'), 1);
      const emails = await operatorEmails(t);
      assert.equal(emails.length, 1, 'one email to the operator');
      assert.match(emails[0]?.subject ?? '', /failed sign-ins/);
      assert.match(emails[0]?.body ?? '', /signin_failures.*151.*threshold of 150 per 60 minutes/s);
      assert.ok(!emails[0]?.body.includes('example.com'), 'no account email in the operator email');
    } finally {
      await t.close();
    }
  });

  test('two nodes on one key-value store raise it once between them; the next hour raises it again', async () => {
    const a = await appWith({ ALARM_FAILED_SIGNINS_PER_HOUR: '20' });
    // Node B shares A's store (Redis when this run has it), as nodes behind a load balancer do.
    const b = await appWith(
      { ALARM_FAILED_SIGNINS_PER_HOUR: '20', ALARM_EMAIL: a.config.alarmEmail },
      { keyValue: a.app.services.kv },
    );
    b.clock.advance(a.clock.now().getTime() - b.clock.now().getTime());
    try {
      const flood = (count: number) =>
        Promise.all(
          Array.from({ length: count }, (_, i) =>
            signIn(i % 2 === 0 ? a : b, uniqueEmail('listed'), 'a leaked password', rotatingAddress()),
          ),
        );
      for (const response of await flood(20)) assert.equal(response.statusCode, 401);
      assert.equal((await alarmsIn(a)).length + (await alarmsIn(b)).length, 0, 'twenty is the threshold');
      for (const response of await flood(40)) assert.equal(response.statusCode, 401);
      const raised = [...(await alarmsIn(a)), ...(await alarmsIn(b))];
      assert.equal(raised.length, 1, `one alarm over both nodes, not one each: ${raised.map((r) => r.raw)}`);
      assert.equal((await alarmMetric(a, 'signin_failures')) + (await alarmMetric(b, 'signin_failures')), 1);
      assert.equal((await operatorEmails(a)).length, 1, 'one email (the outbox is the shared database)');

      a.clock.advance(HOUR);
      b.clock.advance(HOUR);
      for (const response of await flood(21)) assert.equal(response.statusCode, 401);
      const later = [...(await alarmsIn(a)), ...(await alarmsIn(b))];
      assert.equal(later.length, 2, 'a new hour, a new alarm');
      assert.equal((await operatorEmails(a)).length, 2);
    } finally {
      await b.close();
      await a.close();
    }
  });

  test('the count never holds up a sign-in, and a failing store in the alarm path is logged, not answered', async () => {
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    // The key-value store fails for the alarm's counter only, and not before the test says so.
    class AlarmCounterDown extends MemoryKeyValue {
      override async increment(key: string, ttlMs: number): Promise<number> {
        if (!key.startsWith('alarm:')) return super.increment(key, ttlMs);
        await gate;
        throw new Error('connection lost');
      }
    }
    const kv = new AlarmCounterDown(systemClock);
    const t = await appWith({ ALARM_FAILED_SIGNINS_PER_HOUR: '1' }, { keyValue: kv });
    try {
      const account = await createVerifiedAccount(t);
      const wrong = await signIn(t, account.email, 'not the password', rotatingAddress());
      const unknown = await signIn(t, uniqueEmail('nobody'), 'not the password', rotatingAddress());
      // Both answered while their counts still wait on the store.
      assert.equal(wrong.statusCode, 401);
      assert.equal(unknown.statusCode, 401);
      assert.equal(wrong.json().error.code, 'INVALID_CREDENTIALS');
      assert.equal(unknown.body, wrong.body, 'the same answer as ever');
      assert.equal((await signIn(t, account.email, account.password, rotatingAddress())).statusCode, 200);
      open();
      assert.deepEqual(await alarmsIn(t), []);
      const warnings = logLines(t).filter(({ line }) => line.msg === 'an alarm counter could not be updated');
      assert.equal(warnings.length, 2, 'each lost count is logged');
      assert.ok(warnings.every(({ line }) => line.level === 40 && line.alarmKind === 'signin_failures'));
      assert.ok(!logLines(t).some(({ line }) => line.msg === 'background task failed'));
    } finally {
      await t.close();
      await kv.close();
    }
  });
});

describe('text messages in all (the spend alarm)', () => {
  test('texts past ALARM_SMS_PER_HOUR raise the sms alarm once; no number or code in the line', async () => {
    const t = await appWith({ ALARM_SMS_PER_HOUR: '4', SMS_PER_NUMBER_PER_DAY: '50', SMS_PER_ACCOUNT_PER_DAY: '50' });
    try {
      // The enrolment texts once; then three codes more: four, the threshold.
      const owner = await enrolTwoStep(t);
      const challenge = await passwordStep(t, owner.email, owner.password);
      const sms = challenge.channels.find((c) => c.type === 'sms');
      assert.ok(sms);
      for (let i = 0; i < 3; i += 1) assert.equal((await sendCode(t, challenge.id, sms.id)).statusCode, 202);
      assert.deepEqual(await alarmsIn(t), [], 'four texts: at the threshold');
      assert.equal((await operatorEmails(t)).length, 0);

      for (let i = 0; i < 4; i += 1) assert.equal((await sendCode(t, challenge.id, sms.id)).statusCode, 202);
      const [alarm, ...more] = await alarmsIn(t);
      assert.ok(alarm);
      assert.deepEqual(more, [], 'once, though eight were sent');
      assert.equal(alarm.line.level, 50);
      assert.equal(alarm.line.alarm, 'sms');
      assert.equal(alarm.line.count, 5);
      assert.equal(alarm.line.threshold, 4);
      assert.deepEqual(Object.keys(alarm.line).sort(), ALARM_FIELDS);
      assert.ok(!alarm.raw.includes(owner.phone.slice(1)), 'no number in the alarm line');
      assert.ok(!alarm.raw.includes(owner.email) && !alarm.raw.includes('@'), 'no email in the alarm line');
      const codes = (await outboxFor(t, owner.phone)).map((m) => m.code ?? '');
      assert.equal(codes.length, 8, 'every text went out: the alarm is not a brake');
      for (const code of codes) assert.ok(code.length > 0 && !alarm.raw.includes(code), 'no code in the alarm line');
      assert.equal(await alarmMetric(t, 'sms'), 1);
      assert.equal(await alarmMetric(t, 'sms_country'), 0, 'off by default');
      const emails = await operatorEmails(t);
      assert.equal(emails.length, 1);
      assert.match(emails[0]?.subject ?? '', /text messages/);
      assert.ok(!emails[0]?.body.includes(owner.phone.slice(1)));
    } finally {
      await t.close();
    }
  });

  test('texts to one country past ALARM_SMS_PER_COUNTRY_PER_HOUR raise sms_country for that country only', async () => {
    const t = await appWith({ ALARM_SMS_PER_HOUR: '0', ALARM_SMS_PER_COUNTRY_PER_HOUR: '2' });
    try {
      // Two Dutch texts (two enrolments): the threshold. A Belgian one is another country's count.
      await enrolTwoStep(t);
      await enrolTwoStep(t);
      const belgian = await createVerifiedAccount(t, { country: 'BE' });
      const added = await t.request({
        method: 'POST',
        url: '/api/v1/phones',
        headers: bearer(await signInToken(t, belgian.email)),
        payload: { number: '+32470123456' },
      });
      assert.equal(added.statusCode, 202, added.body);
      assert.deepEqual(await alarmsIn(t), []);
      await enrolTwoStep(t);
      const [alarm, ...more] = await alarmsIn(t);
      assert.ok(alarm);
      assert.deepEqual(more, []);
      assert.equal(alarm.line.alarm, 'sms_country');
      assert.equal(alarm.line.country, 'NL');
      assert.equal(alarm.line.count, 3);
      assert.deepEqual(Object.keys(alarm.line).sort(), [...ALARM_FIELDS, 'country'].sort());
      assert.equal(await alarmMetric(t, 'sms_country'), 1);
      assert.equal(await alarmMetric(t, 'sms'), 0, 'ALARM_SMS_PER_HOUR=0 turns the total off');
      assert.match((await operatorEmails(t))[0]?.subject ?? '', /to NL/);
    } finally {
      await t.close();
    }
  });
});
