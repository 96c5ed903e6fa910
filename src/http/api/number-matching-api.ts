// The owner requires number matching for their own account (SPEC §4), whatever the deployment does.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../flows/context.ts';
import { setNumberMatching } from '../../flows/number-matching.ts';
import { requireAuth } from '../request-context.ts';
import { errorResponses } from './schemas.ts';

export function registerNumberMatchingApi(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.put(
    '/api/v1/two-step/number-matching',
    {
      schema: {
        tags: ['two-step'],
        summary:
          'Require number matching for pushes to this account’s devices (a protected change: needs a recent verification on a two-step account)',
        body: Type.Object({ required: Type.Boolean() }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            required: Type.Boolean({ description: 'what the account asks for' }),
            deployment: Type.Boolean({ description: 'whether the deployment requires it for everyone anyway' }),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      await setNumberMatching(services, requireAuth(request), request.body.required, request.ctx);
      return { required: request.body.required, deployment: services.config.policy.numberMatching };
    },
  );
}
