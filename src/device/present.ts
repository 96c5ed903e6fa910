// How a pushed code looks in the terminal (SPEC §3.6: the code with what it is for, and the browser,
// IP, place and time of the request, so the user can tell a real request from someone else's).
import type { DeviceMessage } from './connection.ts';

export interface CodePush {
  challengeId: string;
  code: string;
  purpose: string;
  expiresAt: string;
  context: { browser: string; ip: string; place: string; at: string };
  /** After the right number-matching pick: the number, which an approval signs (docs/device-protocol.md). */
  matched?: number;
}

const PURPOSES: Record<string, string> = {
  verify_device: 'make this device a trusted device',
  sign_in: 'sign in',
  step_up: 'confirm an account change',
  recovery: 'recover the account (forgot password)',
};

export function describePurpose(purpose: string): string {
  return PURPOSES[purpose] ?? purpose.replaceAll('_', ' ');
}

function text(value: unknown, fallback: string): string {
  return typeof value === 'string' && value !== '' ? value : fallback;
}

/** A `code` message with every field a string, or undefined when it is not one. */
export function codePush(message: DeviceMessage): CodePush | undefined {
  if (message.type !== 'code' || typeof message.challengeId !== 'string' || typeof message.code !== 'string')
    return undefined;
  const context = (typeof message.context === 'object' && message.context !== null ? message.context : {}) as Record<
    string,
    unknown
  >;
  return {
    challengeId: message.challengeId,
    code: message.code,
    purpose: text(message.purpose, 'unknown'),
    expiresAt: text(message.expiresAt, ''),
    context: {
      browser: text(context.browser, 'unknown browser or app'),
      ip: text(context.ip, 'unknown address'),
      place: text(context.place, 'unknown place'),
      at: text(context.at, ''),
    },
    ...(Number.isInteger(message.matched) ? { matched: message.matched as number } : {}),
  };
}

function localTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? 'unknown time' : date.toLocaleString();
}

/** Strips control characters: what the server relays about a browser must not drive this terminal. */
function safe(value: string): string {
  return value.replace(/[\p{Cc}\p{Cf}]/gu, '');
}

export function formatCodeBlock(push: CodePush, now: Date): string {
  const expires = new Date(push.expiresAt);
  const minutesLeft = Math.max(0, Math.round((expires.getTime() - now.getTime()) / 60_000));
  const spaced = safe(push.code).replace(/^(\d{3})(\d{3})$/, '$1 $2');
  return [
    '',
    `  code    ${spaced}`,
    `  to      ${safe(describePurpose(push.purpose))}`,
    `  from    ${safe(push.context.browser)}`,
    `  at      ${safe(push.context.ip)} (${safe(push.context.place)})`,
    `  when    ${localTime(push.context.at)}`,
    `  expires ${Number.isNaN(expires.getTime()) ? 'unknown' : `${expires.toLocaleTimeString()} (in about ${minutesLeft} min)`}`,
    ...(push.matched === undefined ? [] : ['  Approve it here instead of typing the code? Type a and Enter.']),
    '  Not you? Type n and Enter: "This wasn\'t me".',
    '',
  ].join('\n');
}
