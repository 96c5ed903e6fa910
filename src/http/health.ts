// Liveness and readiness for orchestrators and load balancers.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../flows/context.ts';

export function registerHealth(app: FastifyInstance, services: Services): void {
  const Status = Type.Object({
    status: Type.String(),
    checks: Type.Optional(Type.Record(Type.String(), Type.String())),
  });
  app.get(
    '/healthz',
    { schema: { tags: ['operations'], summary: 'The process is alive', response: { 200: Status } } },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'The database and key-value store answer',
        response: { 200: Status, 503: Status },
      },
    },
    async (_request, reply) => {
      const checks: Record<string, string> = {};
      const probe = async (name: string, check: () => Promise<void>): Promise<void> => {
        try {
          await check();
          checks[name] = 'ok';
        } catch {
          checks[name] = 'unavailable';
        }
      };
      await Promise.all([probe('database', () => services.store.ping()), probe('keyValue', () => services.kv.ping())]);
      const ready = Object.values(checks).every((v) => v === 'ok');
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
    },
  );
}
