// The frame of every portal page: header with navigation, main content, footer with the language
// switch. No inline script or style anywhere (strict CSP); forms work without JavaScript.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Locale, localeNames, supportedLocales, type TextId, t } from '../../text/index.ts';
import { csrfTokenFor } from '../csrf.ts';
import { type Html, html } from './html.ts';

export interface PageView {
  locale: Locale;
  text: (id: TextId, params?: Record<string, string | number>) => string;
  csrf: Html;
}

/** Per-request helpers for page templates: the locale, a translator and the hidden CSRF field. */
export function pageView(request: FastifyRequest, reply: FastifyReply): PageView {
  const locale = request.ctx.locale;
  const token = csrfTokenFor(request, reply);
  return {
    locale,
    text: (id, params) => t(locale, id, params),
    csrf: html`<input type="hidden" name="_csrf" value="${token}">`,
  };
}

export function layout(request: FastifyRequest, view: PageView, title: string, body: Html): string {
  const { text, csrf } = view;
  const signedIn = request.auth !== undefined;
  const nav = signedIn
    ? html`<a href="/account">${text('nav.account')}</a>
        <a href="/account/activity">${text('nav.activity')}</a>
        <form method="post" action="/signout" class="inline">${csrf}<button type="submit" class="link">${text('nav.signOut')}</button></form>`
    : html`<a href="/signin">${text('nav.signIn')}</a> <a href="/signup">${text('nav.signUp')}</a>`;
  const back = request.url.split('?')[0] ?? '/';
  const languages = supportedLocales.map(
    (code) => html`<option value="${code}" ${code === view.locale ? html`selected` : ''}>${localeNames[code]}</option>`,
  );
  return html`<!doctype html>
<html lang="${view.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${text('app.name')}</title>
<link rel="stylesheet" href="/static/styles.css">
</head>
<body>
<a class="skip" href="#main">${text('nav.skip')}</a>
<header class="top">
  <a class="brand" href="/">${text('app.name')}</a>
  <nav aria-label="${text('app.name')}">${nav}</nav>
</header>
<main id="main">
${body}
</main>
<footer>
  <form method="post" action="/language" class="inline">
    ${csrf}<input type="hidden" name="back" value="${back}">
    <label for="language">${text('lang.label')}</label>
    <select id="language" name="locale">${languages}</select>
    <button type="submit" class="secondary">${text('lang.switch')}</button>
  </form>
  <p class="muted">${text('app.tagline')}</p>
</footer>
</body>
</html>`.value;
}

/** An error message above a form, announced to screen readers. */
export function alertBox(message: string | undefined): Html {
  return message ? html`<div class="alert" role="alert">${message}</div>` : html``;
}

export function noticeBox(message: string | undefined): Html {
  return message ? html`<div class="notice" role="status">${message}</div>` : html``;
}
