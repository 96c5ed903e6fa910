// The emails of "forgot password" (SPEC §3.7). Neither carries a footer link to act on: the first is
// the link itself, the second points to the recovery page, which needs the recovery key anyway.
import { type Locale, t } from '../../text/index.ts';
import type { EmailMessage } from './mailer.ts';

interface Recipient {
  email: string;
  name: string;
  locale: Locale;
}

/** Accounts without two-step verification: the single-use link. */
export function passwordResetLinkMessage(to: Recipient, link: string, minutes: number): EmailMessage {
  return {
    to: to.email,
    subject: t(to.locale, 'email.passwordResetLink.subject'),
    text: t(to.locale, 'email.passwordResetLink.body', { name: to.name, link, minutes }),
    links: [link],
  };
}

/** Accounts with two-step verification: no link can reset them, so the email says what can. */
export function passwordResetWithKeyMessage(to: Recipient, publicUrl: string): EmailMessage {
  const url = `${publicUrl}/forgot-password/key`;
  return {
    to: to.email,
    subject: t(to.locale, 'email.passwordResetWithKey.subject'),
    text: t(to.locale, 'email.passwordResetWithKey.body', { name: to.name, url }),
    links: [url],
  };
}
