// JSON API for two-step verification (SPEC §7 "two-step", "recovery key", "phones", "step-up").
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../flows/context.ts';
import { addPhone, listPhones, type PhoneView, removePhone } from '../../flows/phones.ts';
import { startStepUp } from '../../flows/step-up.ts';
import {
  confirmRecoveryKey,
  createRecoveryKey,
  disableTwoStep,
  enableTwoStep,
  twoStepStatus,
} from '../../flows/two-step.ts';
import { requireAuth } from '../request-context.ts';
import { ChallengeWithChannels, errorResponses } from './schemas.ts';

const security: Record<string, string[]>[] = [{ bearer: [] }, { cookie: [] }];

const StatusSchema = Type.Object({
  enabled: Type.Boolean(),
  available: Type.Boolean({ description: "two-step verification is available in the account's country" }),
  smsAvailable: Type.Boolean(),
  waitingUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'end of the waiting period after a security change',
  }),
  trustedDevices: Type.Integer(),
  verifiedPhones: Type.Integer(),
  authenticators: Type.Integer({ description: 'confirmed authenticator apps (TOTP)' }),
  securityKeys: Type.Integer({ description: 'security keys and passkeys that can answer a second step (WebAuthn)' }),
  recoveryKeyConfirmed: Type.Boolean(),
  ready: Type.Boolean({ description: 'everything is in place to turn it on' }),
});

const PhoneSchema = Type.Object({
  id: Type.String(),
  number: Type.String({ description: 'masked' }),
  verified: Type.Boolean(),
  addedAt: Type.String({ format: 'date-time' }),
});

function phoneJson(phone: PhoneView) {
  return { ...phone, addedAt: phone.addedAt.toISOString() };
}

export function registerTwoStepApi(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/v1/two-step',
    {
      schema: {
        tags: ['two-step'],
        summary: 'Two-step verification: state and eligibility',
        security,
        response: { 200: StatusSchema, ...errorResponses },
      },
    },
    async (request) => {
      const account =
        (await services.store.accounts.findById(requireAuth(request).account.id)) ?? requireAuth(request).account;
      const status = await twoStepStatus(services, account);
      return { ...status, waitingUntil: status.waitingUntil?.toISOString() ?? null };
    },
  );

  app.post(
    '/api/v1/two-step/recovery-key',
    {
      schema: {
        tags: ['two-step'],
        summary: 'Create a recovery key; shown once, it counts only after it is typed back (confirm)',
        security,
        response: {
          201: Type.Object({ recoveryKey: Type.String({ description: 'XXXX-XXXX-XXXX-XX' }) }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send({ recoveryKey: await createRecoveryKey(services, requireAuth(request), request.ctx) }),
  );

  app.post(
    '/api/v1/two-step/recovery-key/confirm',
    {
      schema: {
        tags: ['two-step'],
        summary: 'Type the new recovery key back',
        security,
        body: Type.Object({ recoveryKey: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ status: Type.Literal('confirmed') }), ...errorResponses },
      },
    },
    async (request) => {
      await confirmRecoveryKey(services, requireAuth(request), request.body.recoveryKey, request.ctx);
      return { status: 'confirmed' as const };
    },
  );

  app.post(
    '/api/v1/two-step/enable',
    {
      schema: {
        tags: ['two-step'],
        summary:
          'Turn two-step verification on (needs a trusted device or phone, a confirmed recovery key, and the acknowledgement)',
        security,
        body: Type.Object(
          {
            acknowledged: Type.Boolean({
              description:
                'the user read the conditions: two of three; support cannot reset; app-specific passwords for legacy clients',
            }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ status: Type.Literal('enabled') }), ...errorResponses },
      },
    },
    async (request) => {
      await enableTwoStep(services, requireAuth(request), request.body.acknowledged, request.ctx);
      return { status: 'enabled' as const };
    },
  );

  app.post(
    '/api/v1/two-step/disable',
    {
      schema: {
        tags: ['two-step'],
        summary: 'Turn two-step verification off (a protected change; trusted devices stay registered)',
        security,
        body: Type.Object({ confirmed: Type.Boolean() }, { additionalProperties: false }),
        response: { 200: Type.Object({ status: Type.Literal('disabled') }), ...errorResponses },
      },
    },
    async (request) => {
      await disableTwoStep(services, requireAuth(request), request.body.confirmed, request.ctx);
      return { status: 'disabled' as const };
    },
  );

  app.post(
    '/api/v1/step-up',
    {
      schema: {
        tags: ['two-step'],
        summary: 'Start a step-up for this session: send a code (POST /challenges/{id}/send), then answer it',
        security,
        response: { 201: Type.Object({ challenge: ChallengeWithChannels }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const challenge = await startStepUp(services, requireAuth(request), request.ctx);
      return reply.status(201).send({
        challenge: {
          id: challenge.id,
          purpose: challenge.purpose,
          expiresAt: challenge.expiresAt.toISOString(),
          channels: challenge.channels,
        },
      });
    },
  );

  app.get(
    '/api/v1/phones',
    {
      schema: {
        tags: ['phones'],
        summary: 'Trusted phone numbers (masked)',
        security,
        response: { 200: Type.Object({ phones: Type.Array(PhoneSchema) }), ...errorResponses },
      },
    },
    async (request) => ({
      phones: (await listPhones(services, requireAuth(request).account.id)).map(phoneJson),
    }),
  );

  app.post(
    '/api/v1/phones',
    {
      schema: {
        tags: ['phones'],
        summary: 'Add a phone number; an SMS code verifies it (POST /challenges/{id}/verify)',
        security,
        body: Type.Object({ number: Type.String({ maxLength: 40 }) }, { additionalProperties: false }),
        response: {
          202: Type.Object({
            phone: PhoneSchema,
            challenge: Type.Object({
              id: Type.String(),
              purpose: Type.String(),
              expiresAt: Type.String({ format: 'date-time' }),
            }),
          }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { phone, challenge } = await addPhone(services, requireAuth(request), request.body.number, request.ctx);
      return reply.status(202).send({
        phone: phoneJson(phone),
        challenge: { id: challenge.id, purpose: challenge.purpose, expiresAt: challenge.expiresAt.toISOString() },
      });
    },
  );

  app.delete(
    '/api/v1/phones/:id',
    {
      schema: {
        tags: ['phones'],
        summary: 'Remove a phone number (a protected change; never the last second step)',
        security,
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await removePhone(services, requireAuth(request), request.params.id, request.ctx);
      return reply.status(204).send(null);
    },
  );
}
