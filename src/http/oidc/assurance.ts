// What a service learns about how its user signed in (SPEC §3.14; SECURITY.md item 39): the
// Authentication Context Class Reference (`acr`) and the Authentication Methods References (`amr`,
// RFC 8176) carried by ID tokens. docs/oidc.md documents both tables.
import type { SessionAssurance } from '../../store/schema.ts';

/** A password alone: every account, and a 2SV account on a browser it trusts (as on the web). */
export const ACR_PASSWORD = 'urn:twostep:acr:password';
/** A password and a code from a trusted device or phone, just now. */
export const ACR_TWO_STEP = 'urn:twostep:acr:two-step';

export const supportedAcrs = [ACR_PASSWORD, ACR_TWO_STEP] as const;
export type Acr = (typeof supportedAcrs)[number];

/** Where the sign-in code went, as our channel types name it (flows/channels). */
export type CodeChannelType = 'device' | 'sms' | 'totp' | 'webauthn';

/**
 * RFC 8176 §2: a code pushed to a trusted device is a one-time password (`otp`); a code by text
 * message is `sms`; an authenticator app is `otp`; a security key `hwk`. `mfa` says more than one
 * factor was used, for services that do not know the specific values.
 */
const AMR_BY_CHANNEL: Record<CodeChannelType, string> = { device: 'otp', sms: 'sms', totp: 'otp', webauthn: 'hwk' };

export interface Assurance {
  acr: Acr;
  amr: string[];
}

export function passwordAssurance(): Assurance {
  return { acr: ACR_PASSWORD, amr: ['pwd'] };
}

export function codeAssurance(channel: CodeChannelType | undefined): Assurance {
  const method = channel ? AMR_BY_CHANNEL[channel] : undefined;
  return { acr: ACR_TWO_STEP, amr: method ? ['pwd', method, 'mfa'] : ['pwd', 'mfa'] };
}

/** A portal session reused for a service: its level is known, the channel of its code is not. */
export function sessionAssurance(level: SessionAssurance): Assurance {
  return level === 'two-step' ? codeAssurance(undefined) : passwordAssurance();
}

/**
 * The level a request's `acr_values` (OIDC Core §3.1.2.1: a preference list) needs: any listed value
 * we support satisfies it, so the lowest listed one; unknown values are ignored; none → no demand.
 */
export function requiredAcr(acrValues: unknown): Acr | undefined {
  if (typeof acrValues !== 'string') return undefined;
  const listed = new Set(acrValues.split(' '));
  if (listed.has(ACR_PASSWORD)) return ACR_PASSWORD;
  if (listed.has(ACR_TWO_STEP)) return ACR_TWO_STEP;
  return undefined;
}

export function satisfies(have: string | undefined, needed: Acr | undefined): boolean {
  return needed === undefined || needed === ACR_PASSWORD || have === ACR_TWO_STEP;
}
