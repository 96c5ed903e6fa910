// An SMS provider in the shape of Twilio's Messages API: POST
// {base}/2010-04-01/Accounts/{sid}/Messages.json, HTTP Basic with the account sid and token, a form
// body (To, From, Body); 201 with {"sid"} on success, {"code","message","status"} on failure.
import { AppError } from '../../core/errors.ts';
import { DEFAULT_RETRY, type RetryPolicy, withRetries } from './retry.ts';
import type { SmsSender } from './sender.ts';

export interface TwilioOptions {
  baseUrl: string;
  accountSid: string;
  authToken: string;
  from: string;
  retry?: RetryPolicy;
  timeoutMs?: number;
}

// Twilio's error codes that mean "this number cannot receive this message" (not our fault, not retryable).
const NUMBER_REFUSED = new Set([21211, 21408, 21610, 21612, 21614]);

export function createTwilioSender(options: TwilioOptions): SmsSender {
  const url = new URL(`/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`, options.baseUrl);
  const authorization = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  return {
    kind: 'twilio',
    async send(message) {
      const answer = await withRetries(
        async () => {
          const response = await fetch(url, {
            method: 'POST',
            headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ To: message.to, From: options.from, Body: message.body }),
            signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
          });
          return { status: response.status, body: await response.json().catch(() => ({})) };
        },
        options.retry ?? DEFAULT_RETRY,
        (refused) => {
          const code = Number((refused.body as { code?: unknown }).code);
          return new AppError(NUMBER_REFUSED.has(code) ? 'SMS_NUMBER_REJECTED' : 'SMS_DELIVERY_FAILED');
        },
      );
      return { providerId: String((answer.body as { sid?: unknown }).sid ?? '') };
    },
  };
}
