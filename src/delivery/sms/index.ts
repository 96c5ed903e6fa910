import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import type { Clock } from '../../core/clock.ts';
import type { OutboxStore } from '../../store/outbox.ts';
import { createOutboxSmsSender } from './outbox-sender.ts';
import type { SmsSender } from './sender.ts';
import { createTwilioSender } from './twilio-sender.ts';
import { createWebhookSender } from './webhook-sender.ts';

export type { SmsMessage, SmsSender } from './sender.ts';

/** The configured SMS provider, or undefined when SMS is off (codes then go to devices only). */
export function createSmsSender(config: Config, outbox: OutboxStore, clock: Clock, log: Logger): SmsSender | undefined {
  const sms = config.sms;
  switch (sms.provider) {
    case 'twilio':
      return createTwilioSender({
        baseUrl: sms.twilioBaseUrl,
        accountSid: sms.twilioAccountSid ?? '',
        authToken: sms.twilioAuthToken ?? '',
        from: sms.twilioFrom ?? '',
      });
    case 'webhook':
      return createWebhookSender({
        url: sms.webhookUrl ?? '',
        secret: sms.webhookSecret ?? '',
        now: () => clock.now(),
      });
    case 'outbox':
      return createOutboxSmsSender(outbox, clock, log);
    default:
      return undefined;
  }
}
