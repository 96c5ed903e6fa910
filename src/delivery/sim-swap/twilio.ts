// A SIM-swap lookup in the shape of Twilio's Lookup v2: GET {base}/v2/PhoneNumbers/{E.164}?Fields=sim_swap
// with HTTP Basic of the account SID and token. The answer's `sim_swap.last_sim_swap` carries
// `last_sim_swap_date` (where the carrier gives one), `swapped_period` (an ISO 8601 duration) and
// `swapped_in_period`; `sim_swap` is null or has an `error_code` when the carrier has no (complete) data.

import { isoDurationMs, type SimSwapAnswer } from '../../core/sim-swap.ts';
import type { RetryPolicy } from '../sms/retry.ts';
import { lookUp, type SimSwapCheck, SimSwapLookupFailed } from './check.ts';

export interface TwilioLookupOptions {
  baseUrl: string;
  accountSid: string;
  authToken: string;
  /** The whole lookup, retries included, ends after this long. */
  timeoutMs: number;
  retry?: RetryPolicy;
}

export function createTwilioSimSwapCheck(options: TwilioLookupOptions): SimSwapCheck {
  const authorization = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  return {
    kind: 'twilio',
    async look(e164) {
      // E.164 is a plus and digits: it goes into the path as it is, as in Twilio's examples.
      if (!/^\+\d{6,15}$/.test(e164)) throw new SimSwapLookupFailed('not an E.164 number');
      const url = new URL(`/v2/PhoneNumbers/${e164}`, options.baseUrl);
      url.searchParams.set('Fields', 'sim_swap');
      const deadline = AbortSignal.timeout(options.timeoutMs);
      const once = async () => {
        const response = await fetch(url, { headers: { authorization, accept: 'application/json' }, signal: deadline });
        return { status: response.status, body: await response.json().catch(() => undefined) };
      };
      return twilioAnswer(await lookUp(once, options.retry, deadline));
    },
  };
}

/** Reads Twilio's `sim_swap` object; anything it cannot place is no data, not a guess. */
export function twilioAnswer(body: unknown): SimSwapAnswer {
  if (typeof body !== 'object' || body === null) throw new SimSwapLookupFailed('not a JSON object');
  const simSwap = (body as { sim_swap?: unknown }).sim_swap;
  if (typeof simSwap !== 'object' || simSwap === null) return { kind: 'no_data' };
  const { error_code: errorCode, last_sim_swap: last } = simSwap as { error_code?: unknown; last_sim_swap?: unknown };
  if (errorCode !== null && errorCode !== undefined) return { kind: 'no_data' };
  if (typeof last !== 'object' || last === null) return { kind: 'no_data' };
  const fields = last as { last_sim_swap_date?: unknown; swapped_period?: unknown; swapped_in_period?: unknown };
  if (typeof fields.last_sim_swap_date === 'string' && !Number.isNaN(Date.parse(fields.last_sim_swap_date)))
    return { kind: 'swapped_at', at: new Date(fields.last_sim_swap_date) };
  const periodMs = isoDurationMs(fields.swapped_period);
  if (periodMs !== undefined && typeof fields.swapped_in_period === 'boolean')
    return { kind: 'period', periodMs, swapped: fields.swapped_in_period };
  return { kind: 'no_data' };
}
