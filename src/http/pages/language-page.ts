// The language switch in every page's footer: remembered in a cookie, and on the account when signed in.
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../flows/context.ts';
import { isLocale } from '../../text/index.ts';
import { cookieNames, cookieOptions } from '../cookies.ts';
import { field, readForm, redirect } from './forms.ts';

const YEAR_SECONDS = 365 * 24 * 3600;

/** Only a local path: the form must not become an open redirect. */
function safeBackPath(value: string): string {
  return /^\/(?![/\\])[\w\-/.]*$/.test(value) ? value : '/';
}

export function registerLanguagePage(app: FastifyInstance, services: Services): void {
  app.post('/language', { schema: { hide: true } }, async (request, reply) => {
    const form = readForm(request);
    const locale = field(form, 'locale');
    if (isLocale(locale)) {
      reply.setCookie(
        cookieNames(services.config).language,
        locale,
        cookieOptions(services.config, { maxAgeSeconds: YEAR_SECONDS }),
      );
      if (request.auth) await services.store.accounts.setLocale(request.auth.account.id, locale, services.clock.now());
    }
    return redirect(reply, safeBackPath(field(form, 'back')));
  });
}
