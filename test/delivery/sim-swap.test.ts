// The SIM-swap lookups against a small local server that speaks their protocols (test/helpers/
// sim-swap-lookup.ts): Twilio's Lookup v2 with `Fields=sim_swap`, and the signed JSON webhook, whose
// signature the server checks. A lookup that is refused, keeps failing or hangs fails within its
// bound; an answer without data is "no data", never a guess.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SimSwapLookupFailed } from '../../src/delivery/sim-swap/check.ts';
import { createTwilioSimSwapCheck } from '../../src/delivery/sim-swap/twilio.ts';
import { createWebhookSimSwapCheck } from '../../src/delivery/sim-swap/webhook.ts';
import { freePort } from '../helpers/app.ts';
import { fakeLookup } from '../helpers/sim-swap-lookup.ts';

const credentials = {
  accountSid: 'AC0123456789abcdef',
  authToken: 'lookup-auth-token',
  webhookSecret: 'sim-swap-webhook-secret-of-32-chars!',
};
const lookup = fakeLookup(credentials);
before(() => lookup.start());
after(() => lookup.stop());

const fast = { attempts: 2, firstDelayMs: 5 };
const NUMBER = '+31612345678';

function twilio(overrides: { authToken?: string; timeoutMs?: number } = {}) {
  return createTwilioSimSwapCheck({
    baseUrl: lookup.url(),
    accountSid: credentials.accountSid,
    authToken: overrides.authToken ?? credentials.authToken,
    timeoutMs: overrides.timeoutMs ?? 2000,
    retry: fast,
  });
}

function webhook(secret = credentials.webhookSecret, timeoutMs = 2000) {
  return createWebhookSimSwapCheck({ url: `${lookup.url()}/sim-swap`, secret, timeoutMs, retry: fast });
}

function reset(): void {
  lookup.received.length = 0;
  lookup.refused.length = 0;
  lookup.records.clear();
  lookup.everyNumber = undefined;
  lookup.next.length = 0;
}

describe('Twilio Lookup v2 (sim_swap)', () => {
  test('GET /v2/PhoneNumbers/{E.164}?Fields=sim_swap with HTTP Basic; the date of the last change is read', async () => {
    reset();
    const at = new Date('2026-12-01T08:30:00Z');
    lookup.records.set(NUMBER, { swappedAt: at });
    assert.deepEqual(await twilio().look(NUMBER), { kind: 'swapped_at', at });
    const [request] = lookup.received;
    assert.equal(request?.method, 'GET');
    assert.equal(request?.path, `/v2/PhoneNumbers/${NUMBER}?Fields=sim_swap`);
    assert.equal(lookup.refused.length, 0, 'the server accepted the credentials');
  });

  test("the period form, a number the carrier has no data for, and Twilio's incomplete-data error", async () => {
    reset();
    lookup.records.set('+31600000001', { period: 'PT48H', swappedInPeriod: true });
    lookup.records.set('+31600000002', { period: 'PT168H', swappedInPeriod: false });
    lookup.records.set('+31600000003', { twilioSimSwap: null });
    lookup.records.set('+31600000004', {
      twilioSimSwap: {
        last_sim_swap: null,
        carrier_name: null,
        mobile_country_code: null,
        mobile_network_code: null,
        error_code: 60620,
      },
    });
    assert.deepEqual(await twilio().look('+31600000001'), { kind: 'period', periodMs: 48 * 3_600_000, swapped: true });
    assert.deepEqual(await twilio().look('+31600000002'), {
      kind: 'period',
      periodMs: 168 * 3_600_000,
      swapped: false,
    });
    assert.deepEqual(await twilio().look('+31600000003'), { kind: 'no_data' });
    assert.deepEqual(await twilio().look('+31600000004'), { kind: 'no_data' });
  });

  test('wrong credentials fail at once (not retried)', async () => {
    reset();
    await assert.rejects(twilio({ authToken: 'wrong' }).look(NUMBER), SimSwapLookupFailed);
    assert.equal(lookup.received.length, 1);
    assert.equal(lookup.refused.length, 1);
  });

  test('a failing lookup is retried once, and answers when it recovers', async () => {
    reset();
    lookup.everyNumber = { status: 503 };
    await assert.rejects(twilio().look(NUMBER), SimSwapLookupFailed);
    assert.equal(lookup.received.length, 2, 'one try and one retry');
    lookup.received.length = 0;
    lookup.everyNumber = undefined;
    lookup.next.push({ status: 500 });
    assert.deepEqual(await twilio().look(NUMBER), { kind: 'period', periodMs: 168 * 3_600_000, swapped: false });
    assert.equal(lookup.received.length, 2);
  });

  test('a lookup that hangs fails within its deadline, retry included', async () => {
    reset();
    lookup.everyNumber = { hang: true };
    const started = performance.now();
    await assert.rejects(twilio({ timeoutMs: 300 }).look(NUMBER), (error: unknown) => {
      assert.ok(error instanceof SimSwapLookupFailed);
      assert.match(error.message, /timed out/);
      return true;
    });
    const took = performance.now() - started;
    assert.ok(took >= 290 && took < 1000, `took ${Math.round(took)} ms`);
  });

  test('an unreachable lookup fails', async () => {
    const check = createTwilioSimSwapCheck({
      baseUrl: `http://127.0.0.1:${await freePort()}`,
      accountSid: 'AC1',
      authToken: 't',
      timeoutMs: 500,
      retry: fast,
    });
    await assert.rejects(check.look(NUMBER), SimSwapLookupFailed);
  });
});

describe('SIM-swap webhook', () => {
  test('POSTs {number} signed like the SMS webhook; the receiver checks the signature; swappedAt is read', async () => {
    reset();
    const at = new Date('2026-11-30T22:00:00Z');
    lookup.records.set(NUMBER, { swappedAt: at });
    assert.deepEqual(await webhook().look(NUMBER), { kind: 'swapped_at', at });
    assert.deepEqual(await webhook().look('+31699999999'), { kind: 'never_swapped' }, 'swappedAt: null');
    assert.equal(lookup.refused.length, 0, 'both signatures verified');
    const [request] = lookup.received;
    assert.equal(request?.method, 'POST');
    assert.deepEqual(JSON.parse(request?.body ?? ''), { number: NUMBER });
    assert.match(String(request?.headers['x-twostep-signature']), /^sha256=[0-9a-f]{64}$/);
  });

  test('a wrong secret is refused by the receiver, and the lookup fails', async () => {
    reset();
    await assert.rejects(webhook('another-secret-that-is-32-characters').look(NUMBER), SimSwapLookupFailed);
    assert.equal(lookup.refused.length, 1);
  });

  test('an answer without swappedAt is a failure, not "never swapped"', async () => {
    reset();
    lookup.records.set(NUMBER, { period: 'PT24H', swappedInPeriod: true }); // the webhook answers {} for this
    await assert.rejects(webhook().look(NUMBER), /no swappedAt/);
  });
});
