// A generic JSON webhook: POST {"to","body"} to a URL of the operator's choosing, signed with
// HMAC-SHA256 over the timestamp and the body so the receiver can check it came from us and is fresh.
// 2xx is accepted (optionally {"id"}); 400/422 means the number was refused; 429 and 5xx are retried.
import { createHmac } from 'node:crypto';
import { AppError } from '../../core/errors.ts';
import { DEFAULT_RETRY, type RetryPolicy, withRetries } from './retry.ts';
import type { SmsSender } from './sender.ts';

export interface WebhookOptions {
  url: string;
  secret: string;
  retry?: RetryPolicy;
  timeoutMs?: number;
  now?: () => Date;
}

export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** One signed POST of a JSON body (also the SIM-swap webhook's); the answer's JSON, or undefined if it has none. */
export async function postSigned(
  target: { url: string; secret: string; now?: (() => Date) | undefined },
  body: string,
  signal: AbortSignal,
): Promise<{ status: number; body: unknown }> {
  const timestamp = String(Math.floor((target.now?.() ?? new Date()).getTime() / 1000));
  const response = await fetch(target.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-twostep-timestamp': timestamp,
      'x-twostep-signature': webhookSignature(target.secret, timestamp, body),
    },
    body,
    signal,
  });
  return { status: response.status, body: await response.json().catch(() => undefined) };
}

export function createWebhookSender(options: WebhookOptions): SmsSender {
  return {
    kind: 'webhook',
    async send(message) {
      const body = JSON.stringify({ to: message.to, body: message.body });
      const answer = await withRetries(
        async () => {
          return postSigned(options, body, AbortSignal.timeout(options.timeoutMs ?? 10_000));
        },
        options.retry ?? DEFAULT_RETRY,
        (refused) =>
          new AppError(
            refused.status === 400 || refused.status === 422 ? 'SMS_NUMBER_REJECTED' : 'SMS_DELIVERY_FAILED',
          ),
      );
      return { providerId: String((answer.body as { id?: unknown } | undefined)?.id ?? '') };
    },
  };
}
