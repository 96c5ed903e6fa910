// One place turns every failure into the public contract (SPEC §7): JSON
// `{"error": {"code", "message"}}` with a fitting status for API clients, a page for browsers.
// Details of unexpected errors go to the log only.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode, isAppError } from '../core/errors.ts';
import { t } from '../text/index.ts';
import { renderErrorPage } from './pages/error-page.ts';
import { requestLocale } from './request-context.ts';

function wantsJson(request: FastifyRequest): boolean {
  if (request.url.startsWith('/api/')) return true;
  const accept = request.headers.accept ?? '';
  return !accept.includes('text/html');
}

/** Fastify's own errors (parsing, validation, limits) in our vocabulary. */
function fromFastifyError(error: FastifyError): AppError | undefined {
  if (error.validation) {
    const field = error.validation[0]?.instancePath?.replace(/^\//, '') || error.validation[0]?.params?.missingProperty;
    return new AppError('VALIDATION_FAILED', field ? { detail: { field: String(field) } } : {});
  }
  const status = error.statusCode ?? 500;
  if (status === 413) return new AppError('BODY_TOO_LARGE');
  if (status === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE');
  if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError)
    return new AppError('MALFORMED_JSON');
  if (status === 404) return new AppError('NOT_FOUND');
  if (status === 405) return new AppError('METHOD_NOT_ALLOWED');
  if (status >= 400 && status < 500) return new AppError('VALIDATION_FAILED');
  return undefined;
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  const locale = request.ctx?.locale ?? requestLocale(request);
  const message = t(locale, `error.${error.code}`, { seconds: error.retryAfterSeconds ?? 0 });
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  reply.header('cache-control', 'no-store');
  if (wantsJson(request)) {
    return reply
      .status(error.status)
      .send({ error: { code: error.code, message, ...(error.detail ? { detail: error.detail } : {}) } });
  }
  return reply
    .status(error.status)
    .type('text/html; charset=utf-8')
    .send(renderErrorPage(request, reply, error.code as ErrorCode, message));
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = isAppError(error) ? error : fromFastifyError(error);
    if (known) return sendError(request, reply, known);
    request.log.error({ err: error }, 'unexpected error');
    return sendError(request, reply, new AppError('INTERNAL'));
  });
  app.setNotFoundHandler((request, reply) => sendError(request, reply, new AppError('NOT_FOUND')));
}
