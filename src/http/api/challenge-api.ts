// Challenges over the JSON API (SPEC §7): send a code through a channel, answer with the code. A
// sign-in challenge is answered without a session (there is none yet: its id is the secret of the
// password step); every other challenge belongs to the signed-in account, and a step-up to the very
// session that asked for it.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../core/errors.ts';
import { answerChallenge, type ChallengeAnswer, replaceChallengeCode } from '../../flows/challenges.ts';
import { sendCodeThrough } from '../../flows/channels/index.ts';
import type { Services } from '../../flows/context.ts';
import { deviceApproval, isApproved } from '../../flows/device-approval.ts';
import { confirmDeviceVerification, type DeviceView } from '../../flows/devices.ts';
import { matchNumberFor } from '../../flows/number-matching.ts';
import { confirmPhone } from '../../flows/phones.ts';
import { securityKeyOptionsFor, securityKeyProof } from '../../flows/security-key-proof.ts';
import { completeSignIn } from '../../flows/sign-in.ts';
import type { Challenge } from '../../store/challenges.ts';
import { cookieNames, cookieOptions } from '../cookies.ts';
import { knownBrowserMarker, setKnownBrowserCookie } from '../known-browser-cookie.ts';
import { requireAuth } from '../request-context.ts';
import { setSessionCookie } from '../session-cookie.ts';
import { ChannelSchema, errorResponses, signedInJson } from './schemas.ts';
import { CredentialJson } from './security-key-api.ts';

const ChallengeId = Type.Object({ id: Type.String({ maxLength: 64 }) });

/** The challenge, if the caller may act on it; otherwise it looks like it does not exist. */
async function challengeFor(services: Services, request: FastifyRequest, id: string): Promise<Challenge> {
  const challenge = await services.store.challenges.find(id);
  if (!challenge) throw new AppError('NOT_FOUND');
  if (challenge.purpose === 'sign_in') return challenge;
  const auth = requireAuth(request);
  if (challenge.accountId !== auth.account.id) throw new AppError('NOT_FOUND');
  if (challenge.purpose === 'step_up' && challenge.subject !== auth.session.id) throw new AppError('NOT_FOUND');
  return challenge;
}

function deviceJson(device: DeviceView) {
  return { id: device.id, name: device.name, trusted: device.trusted };
}

export function registerChallengeApi(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/api/v1/challenges/:id/send',
    {
      schema: {
        tags: ['challenges'],
        summary: 'Send a new code for the challenge through one of its channels (the previous code stops working)',
        params: ChallengeId,
        body: Type.Object({ channel: Type.String({ maxLength: 80 }) }, { additionalProperties: false }),
        response: {
          202: Type.Object({
            status: Type.Literal('sent'),
            channel: ChannelSchema,
            matchNumber: Type.Optional(
              Type.Integer({
                description: 'with number matching: the number to pick on the device (show it to the user)',
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const challenge = await challengeFor(services, request, request.params.id);
      const channel = await sendCodeThrough(
        services,
        challenge,
        request.body.channel,
        () => replaceChallengeCode(services, challenge),
        request.ctx,
      );
      const matchNumber = channel.type === 'device' ? await matchNumberFor(services, challenge.id) : undefined;
      return reply.status(202).send({ status: 'sent' as const, channel, ...(matchNumber ? { matchNumber } : {}) });
    },
  );

  app.post(
    '/api/v1/challenges/:id/verify',
    {
      schema: {
        tags: ['challenges'],
        summary:
          'Answer a challenge with the code, or with {approved: true} once a device approved it; a sign-in challenge answers with the new session',
        params: ChallengeId,
        description:
          'Send exactly one of `code` (typed by the user), `securityKey` (the answer of a security key or passkey to ' +
          'the options from GET /api/v1/challenges/{id}/security-key) and `approved` (a trusted device approved it).',
        body: Type.Object(
          {
            code: Type.Optional(Type.String({ maxLength: 32 })),
            securityKey: Type.Optional(CredentialJson),
            approved: Type.Optional(
              Type.Literal(true, { description: 'instead of code: the request was approved on a trusted device' }),
            ),
            trustBrowser: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Union([
            Type.Object({
              status: Type.Literal('signed_in'),
              token: Type.String(),
              expiresAt: Type.String({ format: 'date-time' }),
            }),
            Type.Object({
              status: Type.Literal('completed'),
              purpose: Type.String(),
              device: Type.Optional(Type.Object({ id: Type.String(), name: Type.String(), trusted: Type.Boolean() })),
              phone: Type.Optional(Type.Object({ id: Type.String(), number: Type.String(), verified: Type.Boolean() })),
            }),
          ]),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const challenge = await challengeFor(services, request, request.params.id);
      const { code, securityKey, approved, trustBrowser } = request.body;
      // Exactly one answer: a code, a security key's assertion, or the device's approval.
      if ([code, securityKey, approved].filter((given) => given !== undefined).length !== 1)
        throw new AppError('VALIDATION_FAILED', { detail: { field: 'code' } });
      const answer: ChallengeAnswer = code ?? (securityKey ? securityKeyProof(securityKey) : deviceApproval);
      reply.header('cache-control', 'no-store');
      if (challenge.purpose === 'sign_in') {
        const knownBrowser = knownBrowserMarker(request, services.config);
        const result = await completeSignIn(services, challenge, { answer, trustBrowser, knownBrowser }, request.ctx);
        setSessionCookie(reply, services.config, result.token);
        setKnownBrowserCookie(reply, services.config, result.knownBrowser);
        if (result.trustedBrowser) {
          reply.setCookie(
            cookieNames(services.config).trustedBrowser,
            result.trustedBrowser,
            cookieOptions(services.config, { maxAgeSeconds: services.config.policy.trustedBrowserDays * 86_400 }),
          );
        }
        return signedInJson(services, result.token);
      }
      const auth = requireAuth(request);
      if (code === undefined && (challenge.purpose === 'verify_device' || challenge.purpose === 'verify_phone'))
        throw new AppError('VALIDATION_FAILED', { detail: { field: 'code' } });
      if (challenge.purpose === 'verify_device') {
        const device = await confirmDeviceVerification(services, auth, challenge.id, code ?? '', request.ctx);
        return { status: 'completed' as const, purpose: challenge.purpose, device: deviceJson(device) };
      }
      if (challenge.purpose === 'verify_phone') {
        const phone = await confirmPhone(services, auth, challenge.id, code ?? '', request.ctx);
        return {
          status: 'completed' as const,
          purpose: challenge.purpose,
          phone: { id: phone.id, number: phone.number, verified: phone.verified },
        };
      }
      const done = await answerChallenge(services, auth.account.id, challenge.id, answer, request.ctx);
      return { status: 'completed' as const, purpose: done.purpose };
    },
  );

  app.get(
    '/api/v1/challenges/:id/security-key',
    {
      schema: {
        tags: ['challenges'],
        summary: "Options for navigator.credentials.get() that answer this challenge with one of the account's keys",
        params: ChallengeId,
        response: { 200: Type.Object({ options: Type.Object({}, { additionalProperties: true }) }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const challenge = await challengeFor(services, request, request.params.id);
      reply.header('cache-control', 'no-store');
      return { options: await securityKeyOptionsFor(services, challenge) };
    },
  );

  app.get(
    '/api/v1/challenges/:id/approval',
    {
      schema: {
        tags: ['challenges'],
        summary:
          'Whether a trusted device approved the challenge (number matching); then answer it with {approved: true}',
        params: ChallengeId,
        response: { 200: Type.Object({ approved: Type.Boolean() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const challenge = await challengeFor(services, request, request.params.id);
      reply.header('cache-control', 'no-store');
      return { approved: await isApproved(services, challenge.id) };
    },
  );
}
