// JSON API for trusted devices (SPEC §7 "devices", docs/device-protocol.md) and the answer to a challenge.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../core/errors.ts';
import type { Services } from '../../flows/context.ts';
import {
  type DeviceView,
  deviceForCredential,
  listDevices,
  registerDevice,
  removeDevice,
  startDeviceVerification,
} from '../../flows/devices.ts';
import { requireRecentTwoStep } from '../../flows/step-up.ts';
import { cookieNames, cookieOptions } from '../cookies.ts';
import { requireAuth } from '../request-context.ts';
import { errorResponses } from './schemas.ts';

const security: Record<string, string[]>[] = [{ bearer: [] }, { cookie: [] }];
const TEN_YEARS_SECONDS = 10 * 365 * 24 * 3600;

const DeviceSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  model: Type.String(),
  trusted: Type.Boolean(),
  pairedAt: Type.String({ format: 'date-time' }),
  trustedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastSeenAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const ChallengeSchema = Type.Object({
  id: Type.String(),
  purpose: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
});

function json(device: DeviceView) {
  return {
    ...device,
    pairedAt: device.pairedAt.toISOString(),
    trustedAt: device.trustedAt?.toISOString() ?? null,
    lastSeenAt: device.lastSeenAt?.toISOString() ?? null,
  };
}

const DeviceId = Type.Object({ id: Type.String({ maxLength: 64 }) });

export function registerDeviceApi(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/v1/devices',
    {
      schema: {
        tags: ['devices'],
        summary: "The account's devices, trusted or waiting for verification",
        security,
        response: { 200: Type.Object({ devices: Type.Array(DeviceSchema) }), ...errorResponses },
      },
    },
    async (request) => ({ devices: (await listDevices(services, requireAuth(request).account.id)).map(json) }),
  );

  app.post(
    '/api/v1/devices',
    {
      schema: {
        tags: ['devices'],
        summary: "Register this device's public key (pairing); returns the device credential once",
        security,
        body: Type.Object(
          {
            name: Type.String({ maxLength: 200 }),
            model: Type.String({ maxLength: 200 }),
            publicKey: Type.Object({
              kty: Type.String({ maxLength: 8 }),
              crv: Type.String({ maxLength: 16 }),
              x: Type.String({ maxLength: 64 }),
              y: Type.String({ maxLength: 64 }),
            }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ device: DeviceSchema, credential: Type.String() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const { device, credential } = await registerDevice(services, auth, request.body, request.ctx);
      // A browser acting as a device gets its credential as an HttpOnly cookie for the connection only.
      if (request.authVia === 'cookie') {
        reply.setCookie(
          cookieNames(services.config).device,
          credential,
          cookieOptions(services.config, { path: '/api/v1/devices', maxAgeSeconds: TEN_YEARS_SECONDS }),
        );
      }
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({ device: json(device), credential });
    },
  );

  app.post(
    '/api/v1/devices/:id/verify',
    {
      schema: {
        tags: ['devices'],
        summary: 'Push a verification code to the device; answer with POST /api/v1/challenges/{id}/verify',
        security,
        params: DeviceId,
        response: { 202: Type.Object({ challenge: ChallengeSchema }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const challenge = await startDeviceVerification(services, requireAuth(request), request.params.id, request.ctx);
      return reply.status(202).send({ challenge: { ...challenge, expiresAt: challenge.expiresAt.toISOString() } });
    },
  );

  app.delete(
    '/api/v1/devices/:id',
    {
      schema: {
        tags: ['devices'],
        summary: 'Remove a device; its connection closes at once (a protected change; never the last second step)',
        security,
        params: DeviceId,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      requireRecentTwoStep(services, auth);
      await removeDevice(services, auth.account, request.params.id, request.ctx);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/devices/self/forget',
    {
      schema: {
        tags: ['devices'],
        summary: 'A device removes itself (`Authorization: Device <credential>`; never the last second step)',
        security: [{ device: [] }],
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      // The terminal app sends its credential in a header; the web device page's browser sends the HttpOnly cookie.
      const match = /^Device\s+(\S+)$/i.exec(request.headers.authorization ?? '');
      const device = await deviceForCredential(
        services,
        match?.[1] ?? request.cookies[cookieNames(services.config).device],
      );
      if (!device) throw new AppError('DEVICE_AUTH_FAILED');
      const account = await services.store.accounts.findById(device.accountId);
      if (!account) throw new AppError('DEVICE_AUTH_FAILED');
      await removeDevice(services, account, device.id, request.ctx, `device:${device.id}`);
      reply.clearCookie(
        cookieNames(services.config).device,
        cookieOptions(services.config, { path: '/api/v1/devices' }),
      );
      return reply.status(204).send(null);
    },
  );
}
