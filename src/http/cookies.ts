// Cookie names and flags (SECURITY.md item 28). Outside plain-http development every cookie is
// `Secure` and carries the `__Host-` prefix, which also forbids a Domain attribute.
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { Config } from '../config.ts';

export interface CookieNames {
  session: string;
  csrf: string;
  language: string;
  /** The web device page's credential, sent only to the device endpoints (/api/v1/devices). */
  device: string;
  /** "Trust this browser": skips the code at sign-in for 30 days. */
  trustedBrowser: string;
  /** A random marker: a sign-in from a browser without a known one emails the owner (SPEC §3.17). */
  knownBrowser: string;
}

export function isSecureDeployment(config: Config): boolean {
  return config.publicUrl.startsWith('https://');
}

export function cookieNames(config: Config): CookieNames {
  const secure = isSecureDeployment(config);
  const prefix = secure ? '__Host-' : '';
  // __Host- would force Path=/; the device cookie is scoped to one path, so it takes __Secure- instead.
  const device = `${secure ? '__Secure-' : ''}twostep_device`;
  return {
    session: `${prefix}twostep_session`,
    csrf: `${prefix}twostep_csrf`,
    language: `${prefix}twostep_lang`,
    device,
    trustedBrowser: `${prefix}twostep_trusted`,
    knownBrowser: `${prefix}twostep_browser`,
  };
}

export function cookieOptions(
  config: Config,
  options: { maxAgeSeconds?: number; path?: string } = {},
): CookieSerializeOptions {
  return {
    path: options.path ?? '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: isSecureDeployment(config),
    ...(options.maxAgeSeconds === undefined ? {} : { maxAge: options.maxAgeSeconds }),
  };
}
