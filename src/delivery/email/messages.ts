// The emails Twostep sends, in the recipient's language. Every security email ends with what to do
// if it wasn't you (SPEC §3.17).
import { type Locale, t } from '../../text/index.ts';
import type { EmailMessage } from './mailer.ts';

interface Recipient {
  email: string;
  name: string;
  locale: Locale;
}

function withFooter(locale: Locale, body: string, publicUrl: string): string {
  return `${body}\n\n--\n${t(locale, 'email.footer', { url: `${publicUrl}/account` })}`;
}

export function verifyEmailMessage(to: Recipient, link: string, hours: number): EmailMessage {
  return {
    to: to.email,
    subject: t(to.locale, 'email.verify.subject'),
    text: t(to.locale, 'email.verify.body', { name: to.name, link, hours }),
    links: [link],
  };
}

export function signupExistingMessage(to: Recipient, publicUrl: string): EmailMessage {
  const url = `${publicUrl}/signin`;
  return {
    to: to.email,
    subject: t(to.locale, 'email.signupExisting.subject'),
    text: withFooter(to.locale, t(to.locale, 'email.signupExisting.body', { name: to.name, url }), publicUrl),
    links: [url],
  };
}

export function passwordChangedMessage(to: Recipient, when: Date, ip: string, publicUrl: string): EmailMessage {
  const text = t(to.locale, 'email.passwordChanged.body', { name: to.name, when: when.toISOString(), ip });
  return {
    to: to.email,
    subject: t(to.locale, 'email.passwordChanged.subject'),
    text: withFooter(to.locale, text, publicUrl),
    links: [`${publicUrl}/account`],
  };
}

export function deviceTrustedMessage(
  to: Recipient,
  device: { name: string; model: string },
  publicUrl: string,
): EmailMessage {
  const text = t(to.locale, 'email.deviceTrusted.body', { name: to.name, device: `${device.name} (${device.model})` });
  return {
    to: to.email,
    subject: t(to.locale, 'email.deviceTrusted.subject'),
    text: withFooter(to.locale, text, publicUrl),
    links: [`${publicUrl}/account`],
  };
}

export function deviceRemovedMessage(
  to: Recipient,
  device: { name: string; model: string },
  publicUrl: string,
): EmailMessage {
  const text = t(to.locale, 'email.deviceRemoved.body', { name: to.name, device: `${device.name} (${device.model})` });
  return {
    to: to.email,
    subject: t(to.locale, 'email.deviceRemoved.subject'),
    text: withFooter(to.locale, text, publicUrl),
    links: [`${publicUrl}/account`],
  };
}

export function challengeDeniedMessage(
  to: Recipient,
  request: { browser: string; ip: string; place: string; at: string },
  publicUrl: string,
): EmailMessage {
  const text = t(to.locale, 'email.challengeDenied.body', { name: to.name, ...request });
  return {
    to: to.email,
    subject: t(to.locale, 'email.challengeDenied.subject'),
    text: withFooter(to.locale, text, publicUrl),
    links: [`${publicUrl}/account`],
  };
}

export function twoStepChangedMessage(to: Recipient, state: 'on' | 'off', publicUrl: string): EmailMessage {
  const id = state === 'on' ? 'email.twoStepOn' : 'email.twoStepOff';
  const text = t(to.locale, `${id}.body`, { name: to.name });
  return {
    to: to.email,
    subject: t(to.locale, `${id}.subject`),
    text: withFooter(to.locale, text, publicUrl),
    links: [`${publicUrl}/account`],
  };
}

export type SecurityNotice = 'phoneAdded' | 'phoneRemoved' | 'newSignIn' | 'recoveryKeyReplaced' | 'waitingPeriodOver';

/** The short security notices of SPEC §3.17, each with "This wasn't me" advice in the footer. */
export function securityNoticeMessage(
  to: Recipient,
  notice: SecurityNotice,
  params: Record<string, string>,
  publicUrl: string,
): EmailMessage {
  const text = t(to.locale, `email.${notice}.body`, { name: to.name, ...params });
  return {
    to: to.email,
    subject: t(to.locale, `email.${notice}.subject`),
    text: withFooter(to.locale, text, publicUrl),
    links: [`${publicUrl}/account`],
  };
}
