// The password reset link a support agent sends (SPEC §3.15): the same single-use link as "forgot
// password", saying who sent it, so an owner who never called support knows to ignore it.
import { type Locale, t } from '../../text/index.ts';
import type { EmailMessage } from './mailer.ts';

interface Recipient {
  email: string;
  name: string;
  locale: Locale;
}

/** `staff` is the sender's display name (flows/activity.ts says why never their email). */
export function supportResetLinkMessage(to: Recipient, staff: string, link: string, minutes: number): EmailMessage {
  return {
    to: to.email,
    subject: t(to.locale, 'email.supportResetLink.subject'),
    text: t(to.locale, 'email.supportResetLink.body', { name: to.name, staff, link, minutes }),
    links: [link],
  };
}
