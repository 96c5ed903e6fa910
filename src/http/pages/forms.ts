// Helpers shared by the HTML form handlers.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isAppError } from '../../core/errors.ts';
import { assertFormToken } from '../csrf.ts';

export type FormBody = Record<string, unknown>;

/** A text field of an urlencoded form; missing or repeated fields read as ''. */
export function field(body: FormBody, name: string): string {
  const value = body[name];
  return typeof value === 'string' ? value : '';
}

/** Parses the form body and checks its CSRF token; anything but a form is refused. */
export function readForm(request: FastifyRequest): FormBody {
  const body = request.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new AppError('VALIDATION_FAILED');
  assertFormToken(request, (body as FormBody)._csrf);
  return body as FormBody;
}

/**
 * Runs a form action; a user-facing failure re-renders the form with its message instead of an
 * error page. CSRF and unexpected errors still go to the global handler.
 */
export async function handleForm(
  reply: FastifyReply,
  action: () => Promise<void>,
  rerender: (error: AppError) => string,
): Promise<FastifyReply | undefined> {
  try {
    await action();
    return undefined;
  } catch (error) {
    if (!isAppError(error) || error.code === 'CSRF_REJECTED' || error.status >= 500) throw error;
    if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
    return reply.status(error.status).type('text/html; charset=utf-8').send(rerender(error));
  }
}

export function redirect(reply: FastifyReply, to: string): FastifyReply {
  return reply.status(303).redirect(to);
}
