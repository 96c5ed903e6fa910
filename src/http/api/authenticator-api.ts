// JSON API for authenticator apps (TOTP; SPEC §7 channel type `totp`): start an enrolment (secret,
// otpauth URI, QR code as SVG), confirm it with a first code, list, remove. Adding and removing are
// protected changes on an account with two-step verification (STEP_UP_REQUIRED).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import {
  type AuthenticatorView,
  confirmAuthenticator,
  listAuthenticators,
  removeAuthenticator,
  startAuthenticator,
} from '../../flows/authenticators.ts';
import type { Services } from '../../flows/context.ts';
import { requireAuth } from '../request-context.ts';
import { errorResponses } from './schemas.ts';

const security: Record<string, string[]>[] = [{ bearer: [] }, { cookie: [] }];

const AuthenticatorSchema = Type.Object({
  id: Type.String(),
  label: Type.String(),
  confirmed: Type.Boolean({ description: 'usable only once confirmed with a first code' }),
  addedAt: Type.String({ format: 'date-time' }),
});

function authenticatorJson(view: AuthenticatorView) {
  return { ...view, addedAt: view.addedAt.toISOString() };
}

export function registerAuthenticatorApi(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/v1/authenticators',
    {
      schema: {
        tags: ['authenticators'],
        summary: 'Authenticator apps (TOTP)',
        security,
        response: { 200: Type.Object({ authenticators: Type.Array(AuthenticatorSchema) }), ...errorResponses },
      },
    },
    async (request) => ({
      authenticators: (await listAuthenticators(services, requireAuth(request).account.id)).map(authenticatorJson),
    }),
  );

  app.post(
    '/api/v1/authenticators',
    {
      schema: {
        tags: ['authenticators'],
        summary: 'Start adding an authenticator app: a new secret to scan or type; confirm it with a first code',
        security,
        body: Type.Object({ label: Type.Optional(Type.String({ maxLength: 200 })) }),
        response: {
          201: Type.Object({
            authenticator: AuthenticatorSchema,
            secret: Type.String({ description: 'base32; shown once' }),
            secretGroups: Type.String({ description: 'the secret in groups of four, for typing' }),
            uri: Type.String({ description: 'otpauth:// URI (Key Uri Format)' }),
            qrSvg: Type.String({ description: 'the URI as a QR code, SVG markup' }),
          }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const started = await startAuthenticator(services, requireAuth(request), request.body.label);
      return reply.status(201).send({ ...started, authenticator: authenticatorJson(started.authenticator) });
    },
  );

  app.post(
    '/api/v1/authenticators/:id/confirm',
    {
      schema: {
        tags: ['authenticators'],
        summary: 'Confirm an authenticator app with its current code; from then on its codes are a second step',
        security,
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        body: Type.Object({ code: Type.String({ maxLength: 32 }) }),
        response: { 200: Type.Object({ authenticator: AuthenticatorSchema }), ...errorResponses },
      },
    },
    async (request) => ({
      authenticator: authenticatorJson(
        await confirmAuthenticator(services, requireAuth(request), request.params.id, request.body.code, request.ctx),
      ),
    }),
  );

  app.delete(
    '/api/v1/authenticators/:id',
    {
      schema: {
        tags: ['authenticators'],
        summary: 'Remove an authenticator app (a protected change; never the last way to get a code)',
        security,
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await removeAuthenticator(services, requireAuth(request), request.params.id, request.ctx);
      return reply.status(204).send(null);
    },
  );
}
