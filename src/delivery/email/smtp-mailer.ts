// Production delivery over SMTP (nodemailer). A failed send is never swallowed: it is logged
// (recipient and subject only, never the body: it may hold a link with a token) and the caller gets
// EMAIL_DELIVERY_FAILED (503), so the user knows to try again.
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import { AppError } from '../../core/errors.ts';
import type { Mailer } from './mailer.ts';

export function createSmtpMailer(smtpUrl: string, from: string, log: Logger): Mailer {
  // Bounded waits: a hung relay must not hold a sign-up request open for minutes.
  const url = new URL(smtpUrl);
  for (const [name, ms] of [
    ['connectionTimeout', '10000'],
    ['greetingTimeout', '10000'],
    ['socketTimeout', '20000'],
  ]) {
    if (!url.searchParams.has(name as string)) url.searchParams.set(name as string, ms as string);
  }
  const transport = nodemailer.createTransport(url.toString());
  return {
    kind: 'smtp',
    async send(message) {
      try {
        await transport.sendMail({ from, to: message.to, subject: message.subject, text: message.text });
      } catch (error) {
        const { code, responseCode } = error as { code?: string; responseCode?: number };
        log.warn({ to: message.to, subject: message.subject, code, responseCode }, 'email could not be sent over SMTP');
        throw new AppError('EMAIL_DELIVERY_FAILED');
      }
    },
    async close() {
      transport.close();
    },
  };
}
