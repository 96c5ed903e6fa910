// The pages oidc-provider itself renders (the sign-out question, "signed out", its error page), in
// our look and language instead of its defaults, which load a web font and use inline styles that
// the strict CSP refuses. They get a Koa context, not a Fastify request, so they build their own frame.
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../../config.ts';
import { isLocale, type Locale, localeFromAcceptLanguage, type TextId, t } from '../../text/index.ts';
import { cookieNames } from '../cookies.ts';
import { Html, html } from '../pages/html.ts';
import { withFormTargets } from './csp.ts';

type Text = (id: TextId, params?: Record<string, string | number>) => string;

function localeOf(ctx: KoaContextWithOIDC, config: Config): Locale {
  const chosen = ctx.cookies.get(cookieNames(config).language, { signed: false });
  return isLocale(chosen) ? chosen : localeFromAcceptLanguage(ctx.get('accept-language') || undefined);
}

function frame(locale: Locale, title: string, body: Html): string {
  return html`<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="strict-origin">
<link rel="icon" href="data:,">
<title>${title} · ${t(locale, 'app.name')}</title>
<link rel="stylesheet" href="/static/styles.css">
</head>
<body>
<header class="top"><a class="brand" href="/">${t(locale, 'app.name')}</a></header>
<main id="main">
${body}
</main>
</body>
</html>`.value;
}

function serviceName(ctx: KoaContextWithOIDC): string | undefined {
  const client = ctx.oidc.client;
  return client ? String(client.clientName ?? client.clientId) : undefined;
}

export function providerPages(config: Config) {
  const view = (ctx: KoaContextWithOIDC): { locale: Locale; text: Text } => {
    const locale = localeOf(ctx, config);
    return { locale, text: (id, params) => t(locale, id, params) };
  };
  return {
    /** RP-initiated logout asks first (SECURITY.md item 39: logout confirmed). `form` is oidc-provider's hidden form. */
    async logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void> {
      const { locale, text } = view(ctx);
      const name = serviceName(ctx);
      const back = ctx.oidc.params?.post_logout_redirect_uri;
      // The confirmation redirects to the service: browsers check a form's redirects against form-action.
      withFormTargets(ctx, typeof back === 'string' ? [back] : []);
      const title = text('oidc.logout.title');
      ctx.type = 'html';
      ctx.body = frame(
        locale,
        title,
        html`<section class="card">
  <h1>${title}</h1>
  <p>${name ? text('oidc.logout.fromService', { service: name }) : text('oidc.logout.body')}</p>
  ${new Html(form)}
  <p class="row-actions">
    <button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>${text('oidc.logout.yes')}</button>
    <button type="submit" form="op.logoutForm" class="secondary">${text('oidc.logout.no')}</button>
  </p>
</section>`,
      );
    },
    async postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void> {
      const { locale, text } = view(ctx);
      const title = text('oidc.loggedOut.title');
      ctx.type = 'html';
      ctx.body = frame(
        locale,
        title,
        html`<section class="card"><h1>${title}</h1><p>${text('oidc.loggedOut.body')}</p></section>`,
      );
    },
    /** Errors shown to the user (a bad redirect_uri cannot be sent back to the service). No detail beyond the OAuth error. */
    async renderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }): Promise<void> {
      const { locale, text } = view(ctx);
      const title = text('oidc.error.title');
      ctx.type = 'html';
      ctx.body = frame(
        locale,
        title,
        html`<section class="card">
  <h1>${title}</h1>
  <p>${text('oidc.error.body')}</p>
  <p class="muted">${out.error}${out.error_description ? `: ${out.error_description}` : ''}</p>
</section>`,
      );
    },
  };
}
