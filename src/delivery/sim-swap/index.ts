import type { Config } from '../../config.ts';
import type { Clock } from '../../core/clock.ts';
import { noSimSwapCheck, type SimSwapCheck } from './check.ts';
import { createTwilioSimSwapCheck } from './twilio.ts';
import { createWebhookSimSwapCheck } from './webhook.ts';

export { type SimSwapCheck, SimSwapLookupFailed } from './check.ts';

/** The configured SIM-swap lookup (SIM_SWAP_CHECK); `none` answers "no data" without asking anyone. */
export function createSimSwapCheck(config: Config, clock: Clock): SimSwapCheck {
  switch (config.simSwapCheck) {
    case 'twilio':
      return createTwilioSimSwapCheck({
        baseUrl: config.twilioLookupBaseUrl,
        accountSid: config.sms.twilioAccountSid ?? '',
        authToken: config.sms.twilioAuthToken ?? '',
        timeoutMs: config.simSwapTimeoutMs,
      });
    case 'webhook':
      return createWebhookSimSwapCheck({
        url: config.simSwapWebhookUrl ?? '',
        secret: config.simSwapWebhookSecret ?? '',
        timeoutMs: config.simSwapTimeoutMs,
        now: () => clock.now(),
      });
    default:
      return noSimSwapCheck;
  }
}
