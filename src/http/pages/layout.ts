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

export interface LayoutOptions {
  /** More external scripts (paths under /static/) the page needs, loaded deferred. */
  scripts?: readonly string[];
  /** A class on <body> for pages with their own look (the device page). */
  bodyClass?: string;
}

export function layout(
  request: FastifyRequest,
  view: PageView,
  title: string,
  body: Html,
  options: LayoutOptions = {},
): string {
  const { text, csrf } = view;
  const signedIn = request.auth !== undefined;
  const back = request.url.split('?')[0] ?? '/';
  // The link to the page being shown says so to screen readers (and is styled from that attribute).
  const link = (href: string, label: string): Html =>
    html`<a href="${href}"${href === back ? html` aria-current="page"` : ''}>${label}</a>`;
  const nav = signedIn
    ? html`${link('/account', text('nav.account'))}
        ${link('/account/activity', text('nav.activity'))}
        <form method="post" action="/signout" class="inline">${csrf}<button type="submit" class="link">${text('nav.signOut')}</button></form>`
    : html`${link('/signin', text('nav.signIn'))} ${link('/signup', text('nav.signUp'))}`;
  const languages = supportedLocales.map(
    (code) => html`<option value="${code}" ${code === view.locale ? html`selected` : ''}>${localeNames[code]}</option>`,
  );
  // <meta name="referrer">: the server's Referrer-Policy header is no-referrer, with which browsers
  // send "Origin: null" on our own form posts (Fetch, "serializing a request origin") and the CSRF
  // origin check refuses every form. strict-origin sends our origin, and never a path or query
  // (where tokens live), to anyone.
  // <link rel="icon" href="data:,">: there is no icon yet; this saves a request that would 404.
  return html`<!doctype html>
<html lang="${view.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="strict-origin">
<link rel="icon" href="data:,">
<title>${title} · ${text('app.name')}</title>
<link rel="stylesheet" href="/static/styles.css">
<script src="/static/strength-meter.js" defer></script>
${(options.scripts ?? []).map(
  (src) => html`<script src="/static/${src}" defer></script>
`,
)}</head>
<body${options.bodyClass ? html` class="${options.bodyClass}"` : ''}>
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
