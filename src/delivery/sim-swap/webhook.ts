// A SIM-swap lookup of the operator's own: POST {"number"} to their URL, signed like the SMS webhook
// (X-Twostep-Timestamp, X-Twostep-Signature: HMAC-SHA256 over "timestamp.body"), answered with
// {"swappedAt": ISO 8601 | null}: when the number's SIM last changed or was ported, or null for never.
import type { SimSwapAnswer } from '../../core/sim-swap.ts';
import type { RetryPolicy } from '../sms/retry.ts';
import { postSigned } from '../sms/webhook-sender.ts';
import { lookUp, type SimSwapCheck, SimSwapLookupFailed } from './check.ts';

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
      return webhookAnswer(await lookUp(() => postSigned(options, body, deadline), options.retry, deadline));
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
