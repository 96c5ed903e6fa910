// A SIM-swap lookup of the operator's own: POST {"number"} to their URL, signed like the SMS webhook
// (X-Twostep-Timestamp, X-Twostep-Signature: HMAC-SHA256 over "timestamp.body"), answered with
// {"swappedAt": ISO 8601 | null}: when the number's SIM last changed or was ported, or null for never.
import { AppError } from '../../core/errors.ts';
import type { SimSwapAnswer } from '../../core/sim-swap.ts';
import { type RetryPolicy, withRetries } from '../sms/retry.ts';
import { webhookSignature } from '../sms/webhook-sender.ts';
import { LOOKUP_RETRY, type SimSwapCheck, SimSwapLookupFailed } from './check.ts';

export interface WebhookLookupOptions {
  url: string;
  secret: string;
  timeoutMs: number;
  retry?: RetryPolicy;
  now?: () => Date;
}

export function createWebhookSimSwapCheck(options: WebhookLookupOptions): SimSwapCheck {
  return {
    kind: 'webhook',
    async look(e164) {
      const body = JSON.stringify({ number: e164 });
      const deadline = AbortSignal.timeout(options.timeoutMs);
      let answer: { status: number; body: unknown };
      try {
        answer = await withRetries(
          async () => {
            const timestamp = String(Math.floor((options.now?.() ?? new Date()).getTime() / 1000));
            const response = await fetch(options.url, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                'x-twostep-timestamp': timestamp,
                'x-twostep-signature': webhookSignature(options.secret, timestamp, body),
              },
              body,
              signal: deadline,
            });
            return { status: response.status, body: await response.json().catch(() => undefined) };
          },
          options.retry ?? LOOKUP_RETRY,
          (refused) => new AppError('SERVICE_UNAVAILABLE', { cause: `status ${refused.status}` }),
        );
      } catch (error) {
        throw new SimSwapLookupFailed(deadline.aborted ? 'timed out' : 'unreachable or refused', { cause: error });
      }
      return webhookAnswer(answer.body);
    },
  };
}

export function webhookAnswer(body: unknown): SimSwapAnswer {
  const swappedAt = typeof body === 'object' && body !== null ? (body as { swappedAt?: unknown }).swappedAt : undefined;
  if (swappedAt === null) return { kind: 'never_swapped' };
  if (typeof swappedAt === 'string' && !Number.isNaN(Date.parse(swappedAt)))
    return { kind: 'swapped_at', at: new Date(swappedAt) };
  throw new SimSwapLookupFailed('the answer has no swappedAt (an ISO 8601 date or null)');
}
