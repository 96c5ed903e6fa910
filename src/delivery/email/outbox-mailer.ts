// Development delivery: the message lands in the outbox table, shown at /dev/outbox. The log gets
// only who and what about, never the body: it holds links with single-use tokens.
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.ts';
import type { OutboxStore } from '../../store/outbox.ts';
import type { Mailer } from './mailer.ts';

export function createOutboxMailer(outbox: OutboxStore, clock: Clock, log: Logger): Mailer {
  return {
    kind: 'outbox',
    async send(message) {
      await outbox.add({
        to: message.to,
        channel: 'email',
        subject: message.subject,
        body: message.text,
        links: message.links,
        at: clock.now(),
      });
      log.info({ to: message.to, subject: message.subject }, 'email placed in the development outbox (/dev/outbox)');
    },
    async close() {},
  };
}
