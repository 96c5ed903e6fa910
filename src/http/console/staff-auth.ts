// The console's own session cookie and CSRF scope (SPEC §3.15). Staff sessions never share a cookie,
// a token table or a form token with the customer portal: a customer session opens nothing here, a
// portal form token is refused here, and the reverse. Over https every cookie is `__Host-` prefixed.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import { AppError } from '../../core/errors.ts';
import { randomToken } from '../../core/tokens.ts';
import type { Services } from '../../flows/context.ts';
import { authenticateStaff, STAFF_SESSION_ABSOLUTE_MS, type StaffAuth } from '../../flows/staff/staff-sessions.ts';
import type { StaffRole } from '../../store/schema.ts';
import { cookieOptions, isSecureDeployment } from '../cookies.ts';
import { formTokenMatches, signFormToken } from '../csrf.ts';
import { bearerToken } from '../request-context.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in staff member of a console request. */
    staff: StaffAuth | undefined;
  }
}

export interface ConsoleCookieNames {
  session: string;
  csrf: string;
  /** Between the password and the code of a staff sign-in. */
  pending: string;
}

export function consoleCookieNames(config: Config): ConsoleCookieNames {
  const prefix = isSecureDeployment(config) ? '__Host-' : '';
  return {
    session: `${prefix}twostep_console`,
    csrf: `${prefix}twostep_console_csrf`,
    pending: `${prefix}twostep_console_pending`,
  };
}

/** Strict: a console cookie is never sent on a request started by another site, not even a top-level GET. */
function consoleCookie(config: Config, maxAgeSeconds?: number) {
  return {
    ...cookieOptions(config, maxAgeSeconds === undefined ? {} : { maxAgeSeconds }),
    sameSite: 'strict' as const,
  };
}

export function setConsoleSession(reply: FastifyReply, config: Config, token: string): void {
  reply.setCookie(consoleCookieNames(config).session, token, consoleCookie(config, STAFF_SESSION_ABSOLUTE_MS / 1000));
}

export function clearConsoleSession(reply: FastifyReply, config: Config): void {
  reply.clearCookie(consoleCookieNames(config).session, consoleCookie(config));
}

export function setPendingSignIn(reply: FastifyReply, config: Config, token: string): void {
  reply.setCookie(consoleCookieNames(config).pending, token, consoleCookie(config, 600));
}

export function clearPendingSignIn(reply: FastifyReply, config: Config): void {
  reply.clearCookie(consoleCookieNames(config).pending, consoleCookie(config));
}

/** The console form token; sets the console's CSRF cookie on first use. */
export function consoleCsrfToken(request: FastifyRequest, reply: FastifyReply): string {
  const config = request.server.services.config;
  const name = consoleCookieNames(config).csrf;
  let value = request.cookies[name];
  if (!value || !/^[A-Za-z0-9_-]{43}$/.test(value)) {
    value = randomToken(32);
    reply.setCookie(name, value, consoleCookie(config));
    request.cookies[name] = value;
  }
  // A label of its own: a portal form token (`csrf`) can never pass here.
  return signFormToken(config, 'console-csrf', value);
}

/** Reads an urlencoded console form and checks its token. */
export function readConsoleForm(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new AppError('VALIDATION_FAILED');
  const submitted = (body as Record<string, unknown>)._csrf;
  const config = request.server.services.config;
  const cookie = request.cookies[consoleCookieNames(config).csrf];
  if (!cookie || typeof submitted !== 'string') throw new AppError('CSRF_REJECTED');
  if (!formTokenMatches(config, 'console-csrf', cookie, submitted)) throw new AppError('CSRF_REJECTED');
  return body as Record<string, unknown>;
}

/**
 * Loads the staff member of every console request: from the console cookie, or, for the API only,
 * a bearer token. A request with an Authorization header never falls back to the cookie (the origin
 * check skips bearer requests, so a cookie must not ride along on one).
 */
export function registerStaffAuth(scope: FastifyInstance, services: Services, options: { bearer: boolean }): void {
  const names = consoleCookieNames(services.config);
  scope.decorateRequest('staff', undefined);
  scope.addHook('preHandler', async (request) => {
    const bearer = options.bearer ? bearerToken(request) : undefined;
    const cookie = request.headers.authorization === undefined ? request.cookies[names.session] : undefined;
    request.staff = await authenticateStaff(services, bearer ?? cookie);
  });
}

/** The signed-in member, with at least `role` (admin includes support); 401 or 403 STAFF_ROLE_REQUIRED. */
export function requireStaff(request: FastifyRequest, role: StaffRole = 'support'): StaffAuth {
  const staff = request.staff;
  if (!staff) throw new AppError('UNAUTHENTICATED');
  if (role === 'admin' && staff.member.role !== 'admin') throw new AppError('STAFF_ROLE_REQUIRED');
  return staff;
}
