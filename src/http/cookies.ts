// Cookie names and flags (SECURITY.md item 28). Outside plain-http development every cookie is
// `Secure` and carries the `__Host-` prefix, which also forbids a Domain attribute.
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { Config } from '../config.ts';

export interface CookieNames {
  session: string;
  csrf: string;
  language: string;
}

export function isSecureDeployment(config: Config): boolean {
  return config.publicUrl.startsWith('https://');
}

export function cookieNames(config: Config): CookieNames {
  const prefix = isSecureDeployment(config) ? '__Host-' : '';
  return { session: `${prefix}twostep_session`, csrf: `${prefix}twostep_csrf`, language: `${prefix}twostep_lang` };
}

export function cookieOptions(config: Config, options: { maxAgeSeconds?: number } = {}): CookieSerializeOptions {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: isSecureDeployment(config),
    ...(options.maxAgeSeconds === undefined ? {} : { maxAge: options.maxAgeSeconds }),
  };
}
