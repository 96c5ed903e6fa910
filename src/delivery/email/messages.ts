// The emails Twostep sends, in the recipient's language. Every security email ends with what to do
// if it wasn't you (SPEC §3.17).
import { type Locale, t } from '../../text/index.ts';
import type { EmailMessage } from './mailer.ts';

interface Recipient {
  email: string;
  name: string;
  locale: Locale;
}

/** The single-use "This wasn't me" link a security email carries (flows/not-me.ts issues it). */
export interface NotMeLink {
  link: string;
  days: number;
}

function withFooter(locale: Locale, body: string, publicUrl: string, notMe?: NotMeLink): string {
  const url = `${publicUrl}/account`;
  const footer = notMe
    ? t(locale, 'email.footer.notMe', { link: notMe.link, days: notMe.days, url })
    : t(locale, 'email.footer', { url });
  return `${body}\n\n--\n${footer}`;
}

/** The links of a security email: the account page, and the "This wasn't me" link when there is one. */
function securityLinks(publicUrl: string, notMe: NotMeLink | undefined): string[] {
  return notMe ? [`${publicUrl}/account`, notMe.link] : [`${publicUrl}/account`];
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

export function passwordChangedMessage(
  to: Recipient,
  when: Date,
  ip: string,
  publicUrl: string,
  notMe?: NotMeLink,
): EmailMessage {
  const text = t(to.locale, 'email.passwordChanged.body', { name: to.name, when: when.toISOString(), ip });
  return {
    to: to.email,
    subject: t(to.locale, 'email.passwordChanged.subject'),
    text: withFooter(to.locale, text, publicUrl, notMe),
    links: securityLinks(publicUrl, notMe),
  };
}

export function deviceTrustedMessage(
  to: Recipient,
  device: { name: string; model: string },
  publicUrl: string,
  notMe?: NotMeLink,
): EmailMessage {
  const text = t(to.locale, 'email.deviceTrusted.body', { name: to.name, device: `${device.name} (${device.model})` });
  return {
    to: to.email,
    subject: t(to.locale, 'email.deviceTrusted.subject'),
    text: withFooter(to.locale, text, publicUrl, notMe),
    links: securityLinks(publicUrl, notMe),
  };
}

export function deviceRemovedMessage(
  to: Recipient,
  device: { name: string; model: string },
  publicUrl: string,
  notMe?: NotMeLink,
): EmailMessage {
  const text = t(to.locale, 'email.deviceRemoved.body', { name: to.name, device: `${device.name} (${device.model})` });
  return {
    to: to.email,
    subject: t(to.locale, 'email.deviceRemoved.subject'),
    text: withFooter(to.locale, text, publicUrl, notMe),
    links: securityLinks(publicUrl, notMe),
  };
}

export function challengeDeniedMessage(
  to: Recipient,
  request: { browser: string; ip: string; place: string; at: string },
  publicUrl: string,
  notMe?: NotMeLink,
): EmailMessage {
  const text = t(to.locale, 'email.challengeDenied.body', { name: to.name, ...request });
  return {
    to: to.email,
    subject: t(to.locale, 'email.challengeDenied.subject'),
    text: withFooter(to.locale, text, publicUrl, notMe),
    links: securityLinks(publicUrl, notMe),
  };
}

export function twoStepChangedMessage(
  to: Recipient,
  state: 'on' | 'off',
  publicUrl: string,
  notMe?: NotMeLink,
): EmailMessage {
  const id = state === 'on' ? 'email.twoStepOn' : 'email.twoStepOff';
  const text = t(to.locale, `${id}.body`, { name: to.name });
  return {
    to: to.email,
    subject: t(to.locale, `${id}.subject`),
    text: withFooter(to.locale, text, publicUrl, notMe),
    links: securityLinks(publicUrl, notMe),
  };
}

export type SecurityNotice =
  | 'phoneAdded'
  | 'phoneRemoved'
  | 'simSwapSuspected'
  | 'totpAdded'
  | 'totpRemoved'
  | 'securityKeyAdded'
  | 'securityKeyRemoved'
  | 'newSignIn'
  | 'recoveryKeyReplaced'
  | 'waitingPeriodOver'
  | 'newBrowserSignIn'
  | 'birthDateChanged'
  | 'countryChanged'
  | 'emailChangeRequested'
  | 'emailChanged'
  | 'passwordReset'
  | 'recoveryKeyUsed'
  | 'appPasswordCreated'
  | 'supportViewed'
  | 'supportUnlocked'
  | 'supportSessionsRevoked'
  | 'supportRefused';

/** The short security notices of SPEC §3.17, each with "This wasn't me" advice in the footer. */
export function securityNoticeMessage(
  to: Recipient,
  notice: SecurityNotice,
  params: Record<string, string>,
  publicUrl: string,
  notMe?: NotMeLink,
): EmailMessage {
  const text = t(to.locale, `email.${notice}.body`, { name: to.name, ...params });
  return {
    to: to.email,
    subject: t(to.locale, `email.${notice}.subject`),
    text: withFooter(to.locale, text, publicUrl, notMe),
    links: securityLinks(publicUrl, notMe),
  };
}

/** To the new address of an email change: the link that makes the change (SPEC §3.3). */
export function changeEmailVerifyMessage(to: Recipient, link: string, hours: number): EmailMessage {
  return {
    to: to.email,
    subject: t(to.locale, 'email.changeEmailVerify.subject'),
    text: t(to.locale, 'email.changeEmailVerify.body', { name: to.name, link, hours }),
    links: [link],
  };
}

/**
 * To the owner of an address another account asked to move to: nothing changes, and the requester
 * got the same answer as for a free address (no enumeration, like sign-up's signupExistingMessage).
 */
export function emailInUseMessage(to: Recipient, publicUrl: string): EmailMessage {
  const url = `${publicUrl}/signin`;
  return {
    to: to.email,
    subject: t(to.locale, 'email.emailInUse.subject'),
    text: withFooter(to.locale, t(to.locale, 'email.emailInUse.body', { name: to.name, url }), publicUrl),
    links: [url],
  };
}

/** After "This wasn't me": what was done, and where to choose a new password. No new report link. */
export function notMeDoneMessage(to: Recipient, publicUrl: string): EmailMessage {
  const url = `${publicUrl}/forgot-password`;
  return {
    to: to.email,
    subject: t(to.locale, 'email.notMeDone.subject'),
    text: t(to.locale, 'email.notMeDone.body', { name: to.name, url }),
    links: [url],
  };
}
