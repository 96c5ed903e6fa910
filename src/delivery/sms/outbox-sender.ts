// Development delivery: the SMS lands in the outbox (/dev/outbox) with its code; the log gets only the masked number.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.ts';
import type { OutboxStore } from '../../store/outbox.ts';
import type { SmsSender } from './sender.ts';

export function createOutboxSmsSender(outbox: OutboxStore, clock: Clock, log: Logger): SmsSender {
  return {
    kind: 'outbox',
    async send(message) {
      await outbox.add({
        to: message.to,
        channel: 'sms',
        body: message.body,
        links: [],
        ...(message.code ? { code: message.code } : {}),
        at: clock.now(),
      });
      log.info({ to: `…${message.to.slice(-2)}` }, 'SMS placed in the development outbox (/dev/outbox)');
      return { providerId: randomUUID() };
    },
  };
}
