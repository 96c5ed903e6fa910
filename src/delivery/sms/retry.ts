// Retries for HTTP SMS providers: only where a retry can help (the provider was unreachable, busy
// or failed on its side), never when it refused the message, and a bounded number of times.
import { setTimeout as wait } from 'node:timers/promises';
import { AppError } from '../../core/errors.ts';

export interface ProviderAnswer {
  status: number;
  body: unknown;
}

export interface RetryPolicy {
  attempts: number;
  firstDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, firstDelayMs: 200 };

export function retryable(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Calls `attempt` until it answers 2xx or a refusal, or the attempts run out. Network errors count as retryable. */
export async function withRetries(
  attempt: () => Promise<ProviderAnswer>,
  policy: RetryPolicy,
  onRefused: (answer: ProviderAnswer) => AppError,
): Promise<ProviderAnswer> {
  let last: ProviderAnswer | undefined;
  for (let i = 0; i < policy.attempts; i += 1) {
    if (i > 0) await wait(policy.firstDelayMs * 2 ** (i - 1));
    try {
      last = await attempt();
    } catch {
      last = undefined;
      continue;
    }
    if (last.status >= 200 && last.status < 300) return last;
    if (!retryable(last.status)) throw onRefused(last);
  }
  throw new AppError('SMS_DELIVERY_FAILED');
}
