// Per-request facts every handler needs: who is asking (address, browser, language) and, when a
// session cookie or bearer token is present and valid, which session and account.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import type { RequestContext, Services } from '../flows/context.ts';
import { type AuthenticatedSession, authenticate } from '../flows/sessions.ts';
import { isLocale, type Locale, localeFromAcceptLanguage } from '../text/index.ts';
import { cookieNames } from './cookies.ts';

declare module 'fastify' {
  interface FastifyRequest {
    ctx: RequestContext;
    auth: AuthenticatedSession | undefined;
    /** How the session was presented: by cookie (needs CSRF checks) or by bearer token. */
    authVia: 'cookie' | 'bearer' | undefined;
  }
}

/** The token of a well-formed `Authorization: Bearer <token>` header, if there is one. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

export function requestLocale(request: FastifyRequest, accountLocale?: string): Locale {
  const chosen = request.cookies[cookieNames(request.server.services.config).language];
  if (isLocale(chosen)) return chosen;
  if (isLocale(accountLocale)) return accountLocale;
  return localeFromAcceptLanguage(request.headers['accept-language']);
}

/**
 * Routes that never look at the session: static files, probes, metrics. Looking it up for them was a
 * query (and, once a minute, a write) for every stylesheet and script of every page a browser loads.
 */
const SESSIONLESS_ROUTES = /^\/(static\/|healthz$|readyz$|metrics$)/;

export function registerRequestContext(app: FastifyInstance, services: Services): void {
  const names = cookieNames(services.config);
  app.decorateRequest('ctx', null as unknown as RequestContext);
  app.decorateRequest('auth', undefined);
  app.decorateRequest('authVia', undefined);
  app.addHook('preHandler', async (request) => {
    const bearer = bearerToken(request);
    // A request that carries an Authorization header of any shape never falls back to the cookie:
    // the origin check skips requests with a bearer header, so a malformed one must not let a
    // cross-site request ride on the browser's ambient session cookie.
    const cookie = request.headers.authorization === undefined ? request.cookies[names.session] : undefined;
    const token = bearer ?? cookie;
    request.authVia = token ? (bearer ? 'bearer' : 'cookie') : undefined;
    const sessionless = SESSIONLESS_ROUTES.test(request.routeOptions.url ?? '');
    request.auth = token && !sessionless ? await authenticate(services, token) : undefined;
    const userAgent = request.headers['user-agent'];
    request.ctx = {
      ip: request.ip,
      userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : null,
      locale: requestLocale(request, request.auth?.account.locale),
    };
  });
}

/** For handlers that need a signed-in user: the session, or a 401 UNAUTHENTICATED. */
export function requireAuth(request: FastifyRequest): AuthenticatedSession {
  if (!request.auth) throw new AppError('UNAUTHENTICATED');
  return request.auth;
}

export function setNoStore(reply: FastifyReply): void {
  reply.header('cache-control', 'no-store');
}
