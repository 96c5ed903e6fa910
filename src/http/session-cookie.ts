import type { FastifyReply } from 'fastify';
import type { Config } from '../config.ts';
import { cookieNames, cookieOptions } from './cookies.ts';

/** The browser keeps the cookie no longer than the session's absolute limit; the server enforces both limits anyway. */
export function setSessionCookie(reply: FastifyReply, config: Config, token: string): void {
  reply.setCookie(
    cookieNames(config).session,
    token,
    cookieOptions(config, { maxAgeSeconds: config.policy.sessionAbsoluteHours * 3600 }),
  );
}

export function clearSessionCookie(reply: FastifyReply, config: Config): void {
  reply.clearCookie(cookieNames(config).session, cookieOptions(config));
}
