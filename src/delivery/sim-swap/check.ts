// The SIM-swap port (SECURITY.md item 16): asks a carrier lookup what it knows of a number's last SIM
// change before a code is texted there. `look` either answers or throws SimSwapLookupFailed (the
// lookup could not be reached, kept failing, timed out or answered nonsense); what a failure means
// (send anyway or refuse) is the flow's decision (flows/sim-swap.ts, SIM_SWAP_ON_FAILURE).
import type { SimSwapAnswer } from '../../core/sim-swap.ts';

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
