// The SIM-swap port (SECURITY.md item 16): asks a carrier lookup what it knows of a number's last SIM
// change before a code is texted there. `look` either answers or throws SimSwapLookupFailed (the
// lookup could not be reached, kept failing, timed out or answered nonsense); what a failure means
// (send anyway or refuse) is the flow's decision (flows/sim-swap.ts, SIM_SWAP_ON_FAILURE).
import { AppError } from '../../core/errors.ts';
import type { SimSwapAnswer } from '../../core/sim-swap.ts';
import { type RetryPolicy, withRetries } from '../sms/retry.ts';

export interface SimSwapCheck {
  readonly kind: 'none' | 'twilio' | 'webhook';
  /** `e164` is the number in E.164. */
  look(e164: string): Promise<SimSwapAnswer>;
}

export class SimSwapLookupFailed extends Error {
  constructor(reason: string, options: { cause?: unknown } = {}) {
    super(`SIM-swap lookup failed: ${reason}`, options);
    this.name = 'SimSwapLookupFailed';
  }
}

/** The default: no lookup, no signal; every send goes ahead as before. */
export const noSimSwapCheck: SimSwapCheck = {
  kind: 'none',
  async look() {
    return { kind: 'no_data' };
  },
};

/** The retry budget of a lookup: it sits in front of a user waiting for a text, so one retry at most. */
export const LOOKUP_RETRY = { attempts: 2, firstDelayMs: 100 } as const;

/**
 * One lookup: `once` retried by the policy, all of it bounded by `deadline`; any failure (refused,
 * unreachable, timed out) becomes SimSwapLookupFailed, which the flow answers by SIM_SWAP_ON_FAILURE.
 */
export async function lookUp(
  once: () => Promise<{ status: number; body: unknown }>,
  retry: RetryPolicy | undefined,
  deadline: AbortSignal,
): Promise<unknown> {
  try {
    const answer = await withRetries(
      once,
      retry ?? LOOKUP_RETRY,
      (refused) => new AppError('SERVICE_UNAVAILABLE', { cause: `status ${refused.status}` }),
    );
    return answer.body;
  } catch (error) {
    throw new SimSwapLookupFailed(deadline.aborted ? 'timed out' : 'unreachable or refused', { cause: error });
  }
}
