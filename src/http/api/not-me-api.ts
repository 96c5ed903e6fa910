// "This wasn't me" over the JSON API (SPEC §3.17, §4: everything the portal does): the token from the
// link of a security email. No session is needed; the token is the proof.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../flows/context.ts';
import { reportNotMe } from '../../flows/not-me.ts';
import { errorResponses } from './schemas.ts';

export function registerNotMeApi(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/api/v1/not-me',
    {
      schema: {
        tags: ['account'],
        summary: '"This wasn\'t me": sign out every session of the account, with the token of a security email',
        description:
          'Signs out every session, forgets trusted and known browsers, cancels pending challenges and email ' +
          'changes, and emails the owner; from the "email changed" notice it also puts the old address back. ' +
          'The token works once. Choose a new password next (POST /api/v1/password-reset).',
        body: Type.Object({ token: Type.String({ maxLength: 128 }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            status: Type.Literal('secured'),
            sessionsRevoked: Type.Integer(),
            challengesCancelled: Type.Integer(),
            emailRestored: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const report = await reportNotMe(services, request.body.token, request.ctx);
      return {
        status: 'secured' as const,
        sessionsRevoked: report.sessionsRevoked,
        challengesCancelled: report.challengesCancelled,
        emailRestored: report.restoredEmail ?? null,
      };
    },
  );
}
