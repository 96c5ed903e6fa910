// What the portal's form handlers share: sending a page that must never be cached, the message of a
// failure in the page's language, and telling a failure the page shows from one the global handler
// takes (CSRF, a step-up to go through, anything unexpected).
import type { FastifyReply } from 'fastify';
import { type AppError, isAppError } from '../../core/errors.ts';
import type { PageView } from './layout.ts';

export function sendHtml(reply: FastifyReply, page: string): FastifyReply {
  return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page);
}

export function errorText(view: PageView, error: AppError | undefined): string | undefined {
  return error ? view.text(`error.${error.code}`, { seconds: error.retryAfterSeconds ?? 0 }) : undefined;
}

/** A user-facing failure to show on the page; CSRF, step-up and unexpected errors go to the global handler. */
export function shownOnPage(error: unknown): AppError {
  if (!isAppError(error) || error.code === 'CSRF_REJECTED' || error.code === 'STEP_UP_REQUIRED' || error.status >= 500)
    throw error;
  return error;
}
