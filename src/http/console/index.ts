// The support console at /console and its JSON API at /api/v1/console (SPEC §3.15). The pages live in
// a scope of their own: their own staff session (cookie only), their own form tokens, and an error
// handler that answers in console pages (a console visitor without a session goes to the console's
// sign-in, never to the portal's).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode, isAppError } from '../../core/errors.ts';
import type { Services } from '../../flows/context.ts';
import { t } from '../../text/index.ts';
import { html } from '../pages/html.ts';
import { requestLocale } from '../request-context.ts';
import { registerAdminPages } from './admin-pages.ts';
import { registerAuditPages } from './audit-pages.ts';
import { registerConsoleApi } from './console-api.ts';
import { consoleLayout, consoleView } from './layout.ts';
import { registerSignInMethodPages } from './sign-in-method-pages.ts';
import { registerConsoleSignInPages } from './signin-pages.ts';
import { registerStaffAuth } from './staff-auth.ts';
import { refusalPage, registerSupportPages } from './support-pages.ts';

function knownError(error: FastifyError): AppError | undefined {
  if (isAppError(error)) return error;
  const status = error.statusCode ?? 500;
  if (status === 413) return new AppError('BODY_TOO_LARGE');
  if (status === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE');
  if (status >= 400 && status < 500) return new AppError('VALIDATION_FAILED');
  // PostgreSQL data exceptions (class 22) come from values a request sent (see http/errors.ts).
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code)) return new AppError('VALIDATION_FAILED');
  return undefined;
}

function errorPage(request: FastifyRequest, reply: FastifyReply, error: AppError): string {
  const view = consoleView(request, reply);
  const message = t(view.locale, `error.${error.code}`, { seconds: error.retryAfterSeconds ?? 0 });
  return consoleLayout(
    request,
    view,
    view.text('error.title'),
    html`<section class="card"><h1>${view.text('error.title')}</h1><p>${message}</p><p class="muted">${error.code as ErrorCode}</p><p><a href="/console">${view.text('console.name')}</a></p></section>`,
  );
}

export function registerConsole(app: FastifyInstance, services: Services): void {
  app.register(async (scope) => {
    registerStaffAuth(scope, services, { bearer: false });
    scope.setErrorHandler((error: FastifyError, request, reply) => {
      request.ctx ??= { ip: request.ip, userAgent: null, locale: requestLocale(request) };
      const known = knownError(error);
      if (!known) request.log.error({ err: error }, 'unexpected error');
      const appError = known ?? new AppError('INTERNAL');
      reply.header('cache-control', 'no-store');
      if (appError.retryAfterSeconds !== undefined) reply.header('retry-after', String(appError.retryAfterSeconds));
      if (appError.code === 'UNAUTHENTICATED') return reply.redirect('/console/signin', 303);
      const params = request.params as { id?: unknown } | undefined;
      const body =
        appError.code === 'SUPPORT_RESET_FORBIDDEN'
          ? refusalPage(request, reply, typeof params?.id === 'string' ? params.id : undefined)
          : errorPage(request, reply, appError);
      return reply.status(appError.status).type('text/html; charset=utf-8').send(body);
    });
    registerConsoleSignInPages(scope, services);
    registerSupportPages(scope, services);
    registerAuditPages(scope, services);
    registerAdminPages(scope, services);
    registerSignInMethodPages(scope, services);
  });
  registerConsoleApi(app, services);
}
