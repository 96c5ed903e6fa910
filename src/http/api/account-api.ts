// JSON API for visitors (SPEC §7): sign up, confirm the email, sign in, sign out.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { contextWords } from '../../core/password-policy.ts';
import type { Services } from '../../flows/context.ts';
import { signOut } from '../../flows/sessions.ts';
import { signIn } from '../../flows/sign-in.ts';
import { signUp } from '../../flows/sign-up.ts';
import { verifyEmail } from '../../flows/verify-email.ts';
import { estimateStrength } from '../../passwords/strength.ts';
import { cookieNames } from '../cookies.ts';
import { knownBrowserMarker, setKnownBrowserCookie } from '../known-browser-cookie.ts';
import { clearSessionCookie, setSessionCookie } from '../session-cookie.ts';
import {
  Email,
  errorResponses,
  Name,
  Password,
  SignedInSchema,
  signedInJson,
  TwoStepRequiredSchema,
  twoStepRequiredJson,
} from './schemas.ts';

export function registerAccountApi(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/api/v1/signup',
    {
      schema: {
        tags: ['account'],
        summary: 'Create an account; a confirmation link is emailed. The answer is the same for a taken email.',
        body: Type.Object(
          {
            email: Email,
            password: Password,
            name: Name,
            birthDate: Type.String({ maxLength: 32 }),
            country: Type.String({ maxLength: 8 }),
          },
          { additionalProperties: false },
        ),
        response: { 202: Type.Object({ status: Type.Literal('check_email') }), ...errorResponses },
      },
    },
    async (request, reply) => {
      await signUp(services, request.body, request.ctx);
      return reply.status(202).send({ status: 'check_email' as const });
    },
  );

  app.post(
    '/api/v1/email/verify',
    {
      schema: {
        tags: ['account'],
        summary: 'Confirm the email address with the token from the emailed link',
        body: Type.Object({ token: Type.String({ maxLength: 128 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ status: Type.Literal('verified') }), ...errorResponses },
      },
    },
    async (request) => {
      await verifyEmail(services, request.body.token, request.ctx);
      return { status: 'verified' as const };
    },
  );

  app.post(
    '/api/v1/signin',
    {
      schema: {
        tags: ['session'],
        summary:
          'Sign in with email and password. Sets the session cookie and returns the token for non-browser clients.',
        description:
          'A sign-in from a browser or app the account has not seen emails the owner a "new sign-in" notice. ' +
          'The server recognizes a client by the `twostep_browser` cookie (`__Host-twostep_browser` over https) ' +
          'that it sets on every successful sign-in: send it back with later sign-ins, as browsers do. A client ' +
          'that keeps no cookies is a new one every time. A sign-in completed with a code sends its own notice.',
        body: Type.Object({ email: Email, password: Password }, { additionalProperties: false }),
        response: {
          200: Type.Union([SignedInSchema, TwoStepRequiredSchema]),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const trustedBrowser = request.cookies[cookieNames(services.config).trustedBrowser];
      const knownBrowser = knownBrowserMarker(request, services.config);
      const result = await signIn(services, { ...request.body, trustedBrowser, knownBrowser }, request.ctx);
      reply.header('cache-control', 'no-store');
      if (result.status === 'two_step_required') return twoStepRequiredJson(result);
      setSessionCookie(reply, services.config, result.token);
      setKnownBrowserCookie(reply, services.config, result.knownBrowser);
      return signedInJson(services, result.token);
    },
  );

  app.post(
    '/api/v1/signout',
    {
      schema: {
        tags: ['session'],
        summary: 'End the current session',
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      if (request.auth) await signOut(services, request.auth, request.ctx);
      clearSessionCookie(reply, services.config);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/password/strength',
    {
      schema: {
        tags: ['account'],
        summary: 'Estimate how hard a password is to guess (for a strength meter); nothing is stored',
        body: Type.Object(
          { password: Password, email: Type.Optional(Email), name: Type.Optional(Name) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            score: Type.Integer({ minimum: 0, maximum: 4 }),
            warning: Type.Union([Type.String(), Type.Null()]),
            suggestions: Type.Array(Type.String()),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { password, email, name } = request.body;
      const context = { ...(email ? { email } : {}), ...(name ? { name } : {}) };
      return estimateStrength(password.slice(0, services.config.policy.passwordMaxLength), contextWords(context));
    },
  );
}
