// The SIM-swap / porting check before a code is texted (NIST SP 800-63B-4 §3.1.3.3, SECURITY.md
// item 16). Someone who talks a carrier into moving the victim's number to their SIM receives the
// victim's texts; the carrier's lookup knows when the SIM last changed. A sign-in, step-up or
// recovery code is not texted to a number whose SIM changed within SIM_SWAP_DAYS after it was
// proven: the user is told to use another second step or recovery, the owner is emailed, and the
// refusal is audited (with the phone's id, never the number). Adding a number still texts its code
// (the code proves possession of the SIM now), and a recent change is recorded. A lookup that fails
// follows SIM_SWAP_ON_FAILURE; a carrier without data for the number is no signal either way.
import { DAY } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import {
  decodeSimSwapAnswer,
  encodeSimSwapAnswer,
  type SimSwapAnswer,
  type SimSwapVerdict,
  simSwapVerdict,
} from '../core/sim-swap.ts';
import { SimSwapLookupFailed } from '../delivery/sim-swap/check.ts';
import type { Phone } from '../store/phones.ts';
import { origin, type RequestContext, type Services } from './context.ts';
import { notifyOwner } from './notify.ts';

/** At most one email per phone and day however often a send is refused: the audit has every one. */
const NOTICE_INTERVAL_MS = DAY;

/** The lookup's verdict for this number, `failed` when it could not be had. Answers are cached briefly. */
async function verdictFor(services: Services, e164: string, provenAt: Date | null): Promise<SimSwapVerdict | 'failed'> {
  const { config, kv, metrics } = services;
  const cacheMs = config.simSwapCacheSeconds * 1000;
  const key = `simswap:${e164}`;
  let answer: SimSwapAnswer | undefined;
  let source: 'lookup' | 'cache' = 'cache';
  if (cacheMs > 0) {
    const cached = await kv.get(key);
    answer = cached === undefined ? undefined : decodeSimSwapAnswer(cached);
  }
  if (!answer) {
    source = 'lookup';
    try {
      answer = await services.simSwap.look(e164);
    } catch (error) {
      if (!(error instanceof SimSwapLookupFailed)) throw error;
      // The message only (no cause, no URL): the number is in the lookup's address.
      services.log.warn({ to: `…${e164.slice(-2)}`, reason: error.message }, 'SIM-swap lookup failed');
      metrics.simSwapCheck('failed', 'lookup');
      return 'failed';
    }
    if (cacheMs > 0) await kv.set(key, encodeSimSwapAnswer(answer), cacheMs);
  }
  const verdict = simSwapVerdict(answer, {
    now: services.clock.now(),
    windowMs: config.simSwapDays * DAY,
    provenAt,
  });
  metrics.simSwapCheck(verdict, source);
  return verdict;
}

/**
 * Throws SIM_SWAP_SUSPECTED when the trusted phone's SIM changed within SIM_SWAP_DAYS after it was
 * proven (after emailing the owner and auditing the refusal), and SMS_DELIVERY_FAILED when the lookup
 * failed and SIM_SWAP_ON_FAILURE=refuse. Runs after the SMS budgets, which so also bound the lookups.
 */
export async function assertSimNotSwapped(
  services: Services,
  phone: Phone,
  purpose: string,
  ctx: RequestContext,
): Promise<void> {
  if (services.simSwap.kind === 'none') return;
  const verdict = await verdictFor(services, phone.e164, phone.verifiedAt);
  if (verdict === 'failed') {
    if (services.config.simSwapOnFailure === 'refuse')
      throw new AppError('SMS_DELIVERY_FAILED', { detail: { reason: 'sim_swap_check_failed' } });
    return;
  }
  if (verdict !== 'suspected') return;
  await services.store.audit.record({
    accountId: phone.accountId,
    actor: `account:${phone.accountId}`,
    event: 'phone.sim_swap_suspected',
    at: services.clock.now(),
    ...origin(ctx),
    details: { phone: phone.id, purpose, sent: false },
  });
  const account = await services.store.accounts.findById(phone.accountId);
  if (account && (await services.kv.setIfAbsent(`simswap:notified:${phone.id}`, '1', NOTICE_INTERVAL_MS))) {
    await notifyOwner(services, account, 'simSwapSuspected', {
      number: `•••• ${phone.e164.slice(-2)}`,
      days: String(services.config.simSwapDays),
    });
  }
  throw new AppError('SIM_SWAP_SUSPECTED', { detail: { channel: `sms:${phone.id}` } });
}

/**
 * Adding a number: whether its SIM changed within SIM_SWAP_DAYS. The code still goes out (only the
 * SIM in the phone now can answer it), so this is for the record; a failed lookup records nothing.
 */
export async function simRecentlySwapped(services: Services, e164: string): Promise<boolean> {
  if (services.simSwap.kind === 'none') return false;
  return (await verdictFor(services, e164, null)) === 'suspected';
}
