// JSON API for app-specific passwords (SPEC §3.13, §7 "app passwords") and the legacy-client check.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../core/errors.ts';
import {
  type AppPasswordView,
  createAppPassword,
  listAppPasswords,
  revokeAllAppPasswords,
  revokeAppPassword,
} from '../../flows/app-passwords.ts';
import type { Services } from '../../flows/context.ts';
import { checkLegacyCredentials } from '../../flows/legacy-check.ts';
import { requireAuth } from '../request-context.ts';
import { errorResponses } from './schemas.ts';

const security: Record<string, string[]>[] = [{ bearer: [] }, { cookie: [] }];

const AppPasswordSchema = Type.Object({
  id: Type.String(),
  label: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastUsedIp: Type.Union([Type.String(), Type.Null()], { description: 'where the last successful check came from' }),
});

function json(p: AppPasswordView) {
  return {
    id: p.id,
    label: p.label,
    createdAt: p.createdAt.toISOString(),
    lastUsedAt: p.lastUsedAt?.toISOString() ?? null,
    lastUsedIp: p.lastUsedIp,
  };
}

const IdParam = Type.Object({ id: Type.String({ maxLength: 64 }) });

/**
 * `Authorization: Basic base64(email:password)` (RFC 7617: the user id ends at the first colon).
 * Undefined when the header is missing or not well-formed Basic credentials.
 */
export function basicCredentials(request: FastifyRequest): { email: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(request.headers.authorization ?? '');
  if (!match?.[1] || match[1].length > 8192) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  const email = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (email.length > 320 || password.length > 4096) return undefined;
  return { email, password };
}

export function registerAppPasswordApi(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/v1/app-passwords',
    {
      schema: {
        tags: ['app passwords'],
        summary: 'Live app-specific passwords, with their last use (never the passwords themselves)',
        security,
        response: {
          200: Type.Object({ appPasswords: Type.Array(AppPasswordSchema), max: Type.Integer() }),
          ...errorResponses,
        },
      },
    },
    async (request) => ({
      appPasswords: (await listAppPasswords(services, requireAuth(request).account.id)).map(json),
      max: services.config.policy.appPasswordsMax,
    }),
  );

  app.post(
    '/api/v1/app-passwords',
    {
      schema: {
        tags: ['app passwords'],
        summary:
          'Generate an app-specific password (two-step accounts; needs a recent step-up). The password is in this answer only',
        security,
        body: Type.Object(
          { label: Type.String({ maxLength: 1000, description: '1–64 characters after trimming' }) },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            appPassword: AppPasswordSchema,
            password: Type.String({ description: 'xxxx-xxxx-xxxx-xxxx, shown once' }),
          }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const created = await createAppPassword(services, requireAuth(request), request.body.label, request.ctx);
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({ appPassword: json(created.appPassword), password: created.password });
    },
  );

  app.delete(
    '/api/v1/app-passwords/:id',
    {
      schema: {
        tags: ['app passwords'],
        summary: 'Revoke one app-specific password (needs a recent step-up on a two-step account)',
        security,
        params: IdParam,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await revokeAppPassword(services, requireAuth(request), request.params.id, request.ctx);
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/api/v1/app-passwords',
    {
      schema: {
        tags: ['app passwords'],
        summary: 'Revoke every app-specific password (needs a recent step-up on a two-step account)',
        security,
        response: { 200: Type.Object({ revoked: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => ({ revoked: await revokeAllAppPasswords(services, requireAuth(request), request.ctx) }),
  );

  app.post(
    '/api/v1/legacy/verify',
    {
      schema: {
        tags: ['app passwords'],
        summary:
          'For a mail or calendar server: are this email and app-specific password good? The account password is never accepted here',
        description:
          'Send `Authorization: Basic base64(email:app-specific password)` and no body. The answer is `{"valid": true|false}` with 200 for any well-formed credentials, the same for an unknown email; 401 without them; 429 with Retry-After while the guessing delay runs. POST, because a check counts against the delay and records the last use.',
        security: [{ basic: [] }],
        response: { 200: Type.Object({ valid: Type.Boolean() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const credentials = basicCredentials(request);
      if (!credentials) {
        reply.header('www-authenticate', 'Basic realm="Twostep legacy clients", charset="UTF-8"');
        throw new AppError('UNAUTHENTICATED');
      }
      return { valid: await checkLegacyCredentials(services, credentials, request.ctx) };
    },
  );
}
