// The frame of every console page: its own header (the staff member, their role, the console's
// sections) and the console's form token. Same stylesheet as the portal; no inline script or style
// (the WebAuthn pages load the portal's external scripts).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Locale, type TextId, t } from '../../text/index.ts';
import { type Html, html } from '../pages/html.ts';
import { consoleCsrfToken } from './staff-auth.ts';

export interface ConsoleView {
  locale: Locale;
  text: (id: TextId, params?: Record<string, string | number>) => string;
  csrf: Html;
}

export function consoleView(request: FastifyRequest, reply: FastifyReply): ConsoleView {
  const locale = request.ctx.locale;
  const token = consoleCsrfToken(request, reply);
  return {
    locale,
    text: (id, params) => t(locale, id, params),
    csrf: html`<input type="hidden" name="_csrf" value="${token}">`,
  };
}

export function consoleLayout(
  request: FastifyRequest,
  view: ConsoleView,
  title: string,
  body: Html,
  options: { scripts?: readonly string[] } = {},
): string {
  const { text, csrf } = view;
  const here = request.url.split('?')[0] ?? '';
  const staff = request.staff;
  const link = (href: string, label: string): Html =>
    html`<a href="${href}"${here.startsWith(href) ? html` aria-current="page"` : ''}>${label}</a>`;
  const admin = staff?.member.role === 'admin';
  const nav = staff
    ? html`${link('/console/accounts', text('console.nav.accounts'))}
      ${
        admin
          ? html`${link('/console/audit', text('console.nav.audit'))}
      ${link('/console/admin/rollout', text('console.nav.rollout'))}
      ${link('/console/admin/services', text('console.nav.services'))}
      ${link('/console/admin/staff', text('console.nav.staff'))}
      ${link('/console/admin/policy', text('console.nav.policy'))}`
          : ''
      }
      ${link('/console/sign-in-methods', text('console.nav.signInMethods'))}
      <span class="muted">${staff.member.name} (${text(staff.member.role === 'admin' ? 'console.role.admin' : 'console.role.support')})</span>
      <form method="post" action="/console/signout" class="inline">${csrf}<button type="submit" class="link">${text('nav.signOut')}</button></form>`
    : html``;
  return html`<!doctype html>
<html lang="${view.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="strict-origin">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>${title} · ${text('console.name')}</title>
<link rel="stylesheet" href="/static/styles.css">
${(options.scripts ?? []).map(
  (src) => html`<script src="/static/${src}" defer></script>
`,
)}</head>
<body>
<a class="skip" href="#main">${text('nav.skip')}</a>
<header class="top">
  <a class="brand" href="/console">${text('console.name')}</a>
  <nav aria-label="${text('console.name')}">${nav}</nav>
</header>
<main id="main">
${body}
</main>
</body>
</html>`.value;
}

export function consoleAlert(message: string | undefined): Html {
  return message ? html`<div class="alert" role="alert">${message}</div>` : html``;
}

export function consoleNotice(message: string | undefined): Html {
  return message ? html`<div class="notice" role="status">${message}</div>` : html``;
}

/** A short, fixed-format time for tables (UTC, so every agent reads the same time to a customer). */
export function consoleTime(at: Date | null | undefined): Html {
  if (!at) return html`—`;
  const iso = at.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}
