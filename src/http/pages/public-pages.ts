// The pages for visitors: sign up, confirm the email, sign in (SPEC §3.1–3.2).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppError } from '../../core/errors.ts';
import type { Services } from '../../flows/context.ts';
import { passkeySignInOptions, signInWithPasskey } from '../../flows/passkey-sign-in.ts';
import { type SignedIn, signIn } from '../../flows/sign-in.ts';
import { signUp } from '../../flows/sign-up.ts';
import { verifyEmail } from '../../flows/verify-email.ts';
import { cookieNames } from '../cookies.ts';
import { knownBrowserMarker, setKnownBrowserCookie } from '../known-browser-cookie.ts';
import { setSessionCookie } from '../session-cookie.ts';
import { countryOptions } from './country-options.ts';
import { type FormBody, field, handleForm, readForm, redirect } from './forms.ts';
import { html } from './html.ts';
import { alertBox, layout, type PageView, pageView } from './layout.ts';
import { postedCredential, securityKeyForm, WEBAUTHN_SCRIPTS } from './security-key-form.ts';
import { strengthMeter } from './strength-meter.ts';

const hidden = { schema: { hide: true } };

function errorText(view: PageView, error: AppError | undefined): string | undefined {
  return error ? view.text(`error.${error.code}`, { seconds: error.retryAfterSeconds ?? 0 }) : undefined;
}

function signUpPage(request: FastifyRequest, reply: FastifyReply, values: FormBody, error?: AppError): string {
  const view = pageView(request, reply);
  const { text } = view;
  const min = request.server.services.config.policy.passwordMinLength;
  const max = request.server.services.config.policy.passwordMaxLength;
  return layout(
    request,
    view,
    text('signup.title'),
    html`
<section class="card">
  <h1>${text('signup.title')}</h1>
  ${alertBox(errorText(view, error))}
  <form method="post" action="/signup" novalidate>
    ${view.csrf}
    <label for="email">${text('field.email')}</label>
    <input id="email" name="email" type="email" autocomplete="username" required value="${field(values, 'email')}">
    <label for="name">${text('field.name')}</label>
    <input id="name" name="name" autocomplete="name" required maxlength="100" value="${field(values, 'name')}">
    <label for="password">${text('field.password')}</label>
    <input id="password" name="password" type="password" autocomplete="new-password" data-strength-meter="password-meter" data-strength-label="password-strength" required minlength="${min}" maxlength="${max}" aria-describedby="password-hint">
    <p id="password-hint" class="hint">${text('hint.password', { min })}</p>
    ${strengthMeter(view, 'password')}
    <label for="birthDate">${text('field.birthDate')}</label>
    <input id="birthDate" name="birthDate" type="date" required value="${field(values, 'birthDate')}" aria-describedby="birth-hint">
    <p id="birth-hint" class="hint">${text('hint.birthDate')}</p>
    <label for="country">${text('field.country')}</label>
    <select id="country" name="country" required>
      <option value="">${text('field.choose')}</option>
      ${countryOptions(view, field(values, 'country'))}
    </select>
    <button type="submit">${text('signup.submit')}</button>
  </form>
  <p>${text('signup.haveAccount')} <a href="/signin">${text('nav.signIn')}</a></p>
</section>`,
  );
}

function signInPage(
  request: FastifyRequest,
  reply: FastifyReply,
  values: FormBody,
  passkeyOptions: object | undefined,
  error?: AppError,
): string {
  const view = pageView(request, reply);
  const { text } = view;
  const passkey = passkeyOptions
    ? html`<p class="hint">${text('signin.passkeyHint')}</p>
  ${securityKeyForm(view, { action: '/signin/passkey', ceremony: 'get', options: passkeyOptions, label: text('signin.passkey') })}`
    : '';
  return layout(
    request,
    view,
    text('signin.title'),
    html`
<section class="card">
  <h1>${text('signin.title')}</h1>
  ${alertBox(errorText(view, error))}
  <form method="post" action="/signin">
    ${view.csrf}
    <label for="email">${text('field.email')}</label>
    <input id="email" name="email" type="email" autocomplete="username" required value="${field(values, 'email')}">
    <label for="password">${text('field.password')}</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit">${text('signin.submit')}</button>
  </form>
  ${passkey}
  ${error?.code === 'ACCOUNT_LOCKED' ? html`<p><a href="/unlock">${text('signin.locked')}</a></p>` : ''}
  <p><a href="/forgot-password">${text('signin.forgot')}</a></p>
  <p>${text('signin.noAccount')} <a href="/signup">${text('nav.signUp')}</a></p>
</section>`,
    passkeyOptions ? { scripts: WEBAUTHN_SCRIPTS } : {},
  );
}

/** Options for the passkey button (stateless: nothing is stored until a passkey answers), if it is on. */
function passkeyOptionsFor(services: Services): Promise<object | undefined> {
  return services.config.policy.passkeySignIn ? passkeySignInOptions(services) : Promise.resolve(undefined);
}

function messagePage(
  request: FastifyRequest,
  reply: FastifyReply,
  title: string,
  body: string,
  link?: { href: string; label: string },
): string {
  const view = pageView(request, reply);
  return layout(
    request,
    view,
    title,
    html`
<section class="card">
  <h1>${title}</h1>
  <p>${body}</p>
  ${link ? html`<p><a class="button" href="${link.href}">${link.label}</a></p>` : ''}
</section>`,
  );
}

function verifyPage(request: FastifyRequest, reply: FastifyReply, token: string, error?: AppError): string {
  const view = pageView(request, reply);
  const { text } = view;
  return layout(
    request,
    view,
    text('verify.title'),
    html`
<section class="card">
  <h1>${text('verify.title')}</h1>
  ${alertBox(errorText(view, error))}
  <p>${text('verify.body')}</p>
  <form method="post" action="/verify-email">
    ${view.csrf}<input type="hidden" name="token" value="${token}">
    <button type="submit">${text('verify.submit')}</button>
  </form>
</section>`,
  );
}

export function registerPublicPages(app: FastifyInstance, services: Services): void {
  app.get('/', hidden, async (request, reply) => redirect(reply, request.auth ? '/account' : '/signin'));

  app.get('/signup', hidden, async (request, reply) =>
    reply.type('text/html; charset=utf-8').send(signUpPage(request, reply, {})),
  );
  app.post('/signup', hidden, async (request, reply) => {
    const form = readForm(request);
    const failed = await handleForm(
      reply,
      () =>
        signUp(
          services,
          {
            email: field(form, 'email'),
            password: field(form, 'password'),
            name: field(form, 'name'),
            birthDate: field(form, 'birthDate'),
            country: field(form, 'country'),
          },
          request.ctx,
        ),
      (error) => signUpPage(request, reply, form, error),
    );
    if (failed) return failed;
    const { text } = pageView(request, reply);
    return reply
      .status(202)
      .type('text/html; charset=utf-8')
      .send(
        messagePage(
          request,
          reply,
          text('signup.checkEmail.title'),
          text('signup.checkEmail.body', { email: field(form, 'email').trim() }),
        ),
      );
  });

  // The emailed link opens a page with a button: following a link (or a mail scanner prefetching it) never changes anything.
  app.get('/verify-email', hidden, async (request, reply) => {
    const token = String((request.query as Record<string, unknown>).token ?? '');
    // The layout's <meta name="referrer" content="strict-origin"> takes over once the page is parsed, so
    // that the confirm form is sent with our Origin: still never a path or query (the token) to anyone.
    reply.header('referrer-policy', 'no-referrer');
    return reply.type('text/html; charset=utf-8').send(verifyPage(request, reply, token));
  });
  app.post('/verify-email', hidden, async (request, reply) => {
    const form = readForm(request);
    const failed = await handleForm(
      reply,
      () => verifyEmail(services, field(form, 'token'), request.ctx),
      (error) => verifyPage(request, reply, field(form, 'token'), error),
    );
    if (failed) return failed;
    const { text } = pageView(request, reply);
    return reply.type('text/html; charset=utf-8').send(
      messagePage(request, reply, text('verify.done.title'), text('verify.done.body'), {
        href: '/signin',
        label: text('nav.signIn'),
      }),
    );
  });

  app.get('/signin', hidden, async (request, reply) => {
    if (request.auth) return redirect(reply, '/account');
    return reply
      .type('text/html; charset=utf-8')
      .send(signInPage(request, reply, {}, await passkeyOptionsFor(services)));
  });
  app.post('/signin/passkey', hidden, async (request, reply) => {
    const form = readForm(request);
    let signedIn: SignedIn | undefined;
    const passkeyOptions = await passkeyOptionsFor(services);
    const failed = await handleForm(
      reply,
      async () => {
        const knownBrowser = knownBrowserMarker(request, services.config);
        signedIn = await signInWithPasskey(
          services,
          { response: postedCredential(form) ?? null, knownBrowser },
          request.ctx,
        );
      },
      (error) => signInPage(request, reply, {}, passkeyOptions, error),
    );
    if (failed || !signedIn) return failed;
    setSessionCookie(reply, services.config, signedIn.token);
    setKnownBrowserCookie(reply, services.config, signedIn.knownBrowser);
    return redirect(reply, '/account');
  });
  app.post('/signin', hidden, async (request, reply) => {
    const form = readForm(request);
    const passkeyOptions = await passkeyOptionsFor(services);
    let token = '';
    let challengeId = '';
    let marker: string | undefined;
    const trustedBrowser = request.cookies[cookieNames(services.config).trustedBrowser];
    const knownBrowser = knownBrowserMarker(request, services.config);
    const failed = await handleForm(
      reply,
      async () => {
        const result = await signIn(
          services,
          { email: field(form, 'email'), password: field(form, 'password'), trustedBrowser, knownBrowser },
          request.ctx,
        );
        if (result.status === 'two_step_required') challengeId = result.challenge.id;
        else {
          token = result.token;
          marker = result.knownBrowser;
        }
      },
      (error) => signInPage(request, reply, { email: field(form, 'email') }, passkeyOptions, error),
    );
    if (failed) return failed;
    if (challengeId) return app.startPortalSignInStep(reply, challengeId);
    setSessionCookie(reply, services.config, token);
    setKnownBrowserCookie(reply, services.config, marker);
    return redirect(reply, '/account');
  });
}
