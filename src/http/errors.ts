// One place turns every failure into the public contract (SPEC §7): JSON
// `{"error": {"code", "message"}}` with a fitting status for API clients, a page for browsers.
// Details of unexpected errors go to the log only.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode, errorCatalog, isAppError } from '../core/errors.ts';
import { localeFromAcceptLanguage, t } from '../text/index.ts';
import { renderErrorPage } from './pages/error-page.ts';
import { localReturnPath, stepUpUrl } from './pages/return-path.ts';
import { requestLocale } from './request-context.ts';

function wantsJson(request: FastifyRequest): boolean {
  if (request.url.startsWith('/api/')) return true;
  // Every operation in the OpenAPI document (a route with a schema it does not hide: health,
  // metrics, the outbox's JSON) answers in the JSON error contract, whatever the Accept header;
  // only the portal's pages (hidden) and unknown URLs follow the browser's Accept.
  const schema = request.routeOptions?.schema as { hide?: boolean } | undefined;
  if (schema !== undefined && schema.hide !== true) return true;
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

/** Where the step-up page sends the browser back to: always a validated local path. */
function stepUpReturn(request: FastifyRequest): string {
  const body = request.body as Record<string, unknown> | null | undefined;
  const fromForm = body !== null && typeof body === 'object' ? localReturnPath(body.return) : undefined;
  const fromUrl = request.method === 'GET' ? localReturnPath(request.url) : undefined;
  return fromForm ?? fromUrl ?? '/account';
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  const locale = request.ctx?.locale ?? requestLocale(request);
  const message = t(locale, `error.${error.code}`, { seconds: error.retryAfterSeconds ?? 0 });
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  reply.header('cache-control', 'no-store');
  // In the portal a protected change first sends the user through the step-up page, then back to
  // the form they were on (its hidden `return` field) or the page they asked for.
  if (error.code === 'STEP_UP_REQUIRED' && !wantsJson(request))
    return reply.status(303).redirect(stepUpUrl(stepUpReturn(request)));
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

/**
 * PostgreSQL's data exceptions (SQLSTATE class 22: a NUL byte in text, an invalid byte sequence, a
 * number out of range…) are caused by the values a request sent. Input should be refused before it
 * reaches the database; where some slips through, it is still bad input (SPEC §7: never a 500 for
 * bad input), logged as a warning so the missing check gets found.
 */
function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}

/**
 * Fastify's router refuses some URLs before any hook runs (a path that is not valid percent-encoding,
 * a parameter over `maxParamLength`) and by default answers them outside the error contract. No
 * cookie or request context exists yet, so the answer is always JSON.
 */
export function sendFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  request.log.info({ code: error.code }, 'request refused by the router');
  const code: ErrorCode = 'VALIDATION_FAILED';
  const message = t(localeFromAcceptLanguage(request.headers['accept-language']), `error.${code}`);
  reply
    .status(errorCatalog[code])
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .send({ error: { code, message } });
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = isAppError(error) ? error : fromFastifyError(error);
    // A known 5xx (a backend away) is still the operator's business: its cause goes to the log.
    if (known && known.status >= 500)
      request.log.warn({ err: known.cause ?? known, code: known.code }, 'request failed');
    if (known) return sendError(request, reply, known);
    if (isDataException(error)) {
      request.log.warn({ err: error }, 'the database refused a value from the request');
      return sendError(request, reply, new AppError('VALIDATION_FAILED'));
    }
    request.log.error({ err: error }, 'unexpected error');
    return sendError(request, reply, new AppError('INTERNAL'));
  });
  // A known URL asked with a method it does not have is a 405 with Allow, not a 404 (RFC 9110 §15.5.6):
  // a GET on a state-changing URL says plainly that it changes nothing (SECURITY.md item 32).
  const routes: { path: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (route) => {
    const path = route.url
      .split('/')
      .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    routes.push({ path: new RegExp(`^${path}$`), methods: [route.method].flat() });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = new Set(routes.filter((route) => route.path.test(path)).flatMap((route) => route.methods));
    if (allowed.size > 0 && !allowed.has(request.method)) {
      reply.header('allow', [...allowed].sort().join(', '));
      return sendError(request, reply, new AppError('METHOD_NOT_ALLOWED'));
    }
    return sendError(request, reply, new AppError('NOT_FOUND'));
  });
}
