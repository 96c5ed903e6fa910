// The pages of a sign-in to a service (the interaction): the password form and the consent
// question. The code step is the portal's own code page (pages/two-step-pages.ts).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppError } from '../../core/errors.ts';
import type { TextId } from '../../text/index.ts';
import { html } from '../pages/html.ts';
import { alertBox, layout, pageView } from '../pages/layout.ts';

export interface LoginView {
  uid: string;
  service: string;
  email?: string;
  needsTwoStep: boolean;
  error?: AppError | undefined;
}

function errorText(request: FastifyRequest, reply: FastifyReply, error: AppError | undefined): string | undefined {
  return error
    ? pageView(request, reply).text(`error.${error.code}`, { seconds: error.retryAfterSeconds ?? 0 })
    : undefined;
}

/** A "Cancel" that tells the service the user said no (access_denied). */
function cancelForm(csrf: ReturnType<typeof pageView>['csrf'], uid: string, label: string) {
  return html`<form method="post" action="/interaction/${uid}/abort" class="inline">${csrf}<button type="submit" class="secondary">${label}</button></form>`;
}

export function loginPage(request: FastifyRequest, reply: FastifyReply, page: LoginView): string {
  const view = pageView(request, reply);
  const { text } = view;
  const title = text('oidc.login.title', { service: page.service });
  return layout(
    request,
    view,
    title,
    html`
<section class="card">
  <h1>${title}</h1>
  <p>${text('oidc.login.intro', { service: page.service })}</p>
  ${page.needsTwoStep ? html`<p class="notice">${text('oidc.login.twoStepDemanded', { service: page.service })}</p>` : ''}
  ${alertBox(errorText(request, reply, page.error))}
  <form method="post" action="/interaction/${page.uid}/login">
    ${view.csrf}
    <label for="email">${text('field.email')}</label>
    <input id="email" name="email" type="email" autocomplete="username" required value="${page.email ?? ''}">
    <label for="password">${text('field.password')}</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit">${text('signin.submit')}</button>
  </form>
  ${cancelForm(view.csrf, page.uid, text('oidc.cancel'))}
</section>`,
  );
}

const SCOPE_TEXT: Record<string, TextId> = {
  openid: 'oidc.scope.openid',
  email: 'oidc.scope.email',
  profile: 'oidc.scope.profile',
  offline_access: 'oidc.scope.offline_access',
};

export function consentPage(
  request: FastifyRequest,
  reply: FastifyReply,
  page: { uid: string; service: string; email: string; scopes: string[] },
): string {
  const view = pageView(request, reply);
  const { text } = view;
  const title = text('oidc.consent.title', { service: page.service });
  const known = page.scopes.filter((scope) => scope in SCOPE_TEXT);
  return layout(
    request,
    view,
    title,
    html`
<section class="card">
  <h1>${title}</h1>
  <p>${text('oidc.consent.signedInAs', { email: page.email })}</p>
  <p>${text('oidc.consent.intro', { service: page.service })}</p>
  <ul>${known.map((scope) => html`<li>${text(SCOPE_TEXT[scope] as TextId)}</li>`)}</ul>
  <form method="post" action="/interaction/${page.uid}/consent" class="inline">
    ${view.csrf}<button type="submit">${text('oidc.consent.allow')}</button>
  </form>
  ${cancelForm(view.csrf, page.uid, text('oidc.consent.deny'))}
</section>`,
  );
}
