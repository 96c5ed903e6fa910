// Two of three at sign-in in the portal (SPEC §3.9–3.11): after the password, the recovery key instead
// of a code (a lost trusted device); and the page that opens an account locked after too many wrong
// codes with the password and the recovery key. Both show the new key once and sign in.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppError } from '../../core/errors.ts';
import type { Services } from '../../flows/context.ts';
import { type RecoveryKeySignIn, signInWithRecoveryKey } from '../../flows/recovery/sign-in-with-key.ts';
import { cookieOptions } from '../cookies.ts';
import { setSessionCookie } from '../session-cookie.ts';
import { field, handleForm, readForm, redirect } from './forms.ts';
import { html } from './html.ts';
import { pageView } from './layout.ts';
import { cardPage, errorText, newKeyBody, recoveryKeyInput, sendPage } from './recovery-views.ts';
import { PENDING_COOKIE } from './two-step-pages.ts';

const hidden = { schema: { hide: true } };

export function registerRecoverySignInPages(app: FastifyInstance, services: Services): void {
  async function signInAndShowKey(
    request: FastifyRequest,
    reply: FastifyReply,
    input: RecoveryKeySignIn,
    rerender: (error: AppError) => string,
  ) {
    let token = '';
    let newKey = '';
    const failed = await handleForm(
      reply,
      async () => {
        const result = await signInWithRecoveryKey(services, input, request.ctx);
        token = result.token;
        newKey = result.recoveryKey;
      },
      rerender,
    );
    if (failed) return failed;
    reply.clearCookie(PENDING_COOKIE, cookieOptions(services.config));
    setSessionCookie(reply, services.config, token);
    const view = pageView(request, reply);
    return sendPage(
      reply,
      cardPage(request, reply, {
        title: view.text('recoverySignIn.title'),
        intro: view.text('recoverySignIn.signedIn'),
        body: newKeyBody(view, newKey, view.text('forgot.newKey'), {
          href: '/account',
          label: view.text('recoverySignIn.continue'),
        }),
      }),
    );
  }

  // After the password step: the pending sign-in (HttpOnly cookie) proves the password.
  function keyInsteadPage(request: FastifyRequest, reply: FastifyReply, error?: AppError) {
    const view = pageView(request, reply);
    return cardPage(request, reply, {
      title: view.text('recoverySignIn.title'),
      intro: view.text('recoverySignIn.intro'),
      error: errorText(view, error, services),
      body: html`<form method="post" action="/signin/recovery-key">${view.csrf}
    ${recoveryKeyInput(view)}
    <button type="submit">${view.text('signin.submit')}</button>
  </form>`,
    });
  }

  app.get('/signin/recovery-key', hidden, (request, reply) => {
    if (!request.cookies[PENDING_COOKIE]) return redirect(reply, '/signin');
    return sendPage(reply, keyInsteadPage(request, reply));
  });

  app.post('/signin/recovery-key', hidden, async (request, reply) => {
    const form = readForm(request);
    const challengeId = request.cookies[PENDING_COOKIE];
    if (!challengeId) return redirect(reply, '/signin');
    return signInAndShowKey(request, reply, { challengeId, recoveryKey: field(form, 'recoveryKey') }, (error) =>
      keyInsteadPage(request, reply, error),
    );
  });

  // A locked account: the password and the recovery key together.
  function unlockPage(request: FastifyRequest, reply: FastifyReply, email: string, error?: AppError) {
    const view = pageView(request, reply);
    return cardPage(request, reply, {
      title: view.text('unlock.title'),
      intro: view.text('unlock.intro'),
      error: errorText(view, error, services),
      body: html`<form method="post" action="/unlock">${view.csrf}
    <label for="email">${view.text('field.email')}</label>
    <input id="email" name="email" type="email" autocomplete="username" required value="${email}">
    <label for="password">${view.text('field.password')}</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    ${recoveryKeyInput(view)}
    <button type="submit">${view.text('unlock.submit')}</button>
  </form>
  <p><a href="/forgot-password/key">${view.text('unlock.resetInstead')}</a></p>`,
    });
  }

  app.get('/unlock', hidden, (request, reply) => sendPage(reply, unlockPage(request, reply, '')));

  app.post('/unlock', hidden, async (request, reply) => {
    const form = readForm(request);
    const email = field(form, 'email').trim();
    return signInAndShowKey(
      request,
      reply,
      { email, password: field(form, 'password'), recoveryKey: field(form, 'recoveryKey') },
      (error) => unlockPage(request, reply, email, error),
    );
  });
}
