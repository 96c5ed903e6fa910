// The known-browser marker (flows/known-browsers.ts) travels as an HttpOnly cookie, the same for the
// portal and the JSON API. It lives as long as the account remembers a browser, and is renewed at
// every sign-in.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { cookieNames, cookieOptions } from './cookies.ts';

export function knownBrowserMarker(request: FastifyRequest, config: Config): string | undefined {
  return request.cookies[cookieNames(config).knownBrowser];
}

export function setKnownBrowserCookie(reply: FastifyReply, config: Config, marker: string | undefined): void {
  if (!marker) return;
  reply.setCookie(
    cookieNames(config).knownBrowser,
    marker,
    cookieOptions(config, { maxAgeSeconds: config.policy.knownBrowserDays * 86_400 }),
  );
}
