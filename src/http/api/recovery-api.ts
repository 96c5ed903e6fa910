// Recovery over the JSON API (SPEC §3.7–3.11, §7): forgot password with an emailed link (no two-step
// verification) or with the recovery key and a code (two-step verification), and signing in with the
// password and the recovery key. No answer ever depends on whether an email has an account, and
// none creates a session before two of the three factors were proved.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../core/errors.ts';
import { replaceChallengeCode } from '../../flows/challenges.ts';
import { sendCodeThrough } from '../../flows/channels/index.ts';
import type { RequestContext, Services } from '../../flows/context.ts';
import { requestPasswordReset, resetWithEmailLink } from '../../flows/recovery/email-link.ts';
import {
  finishKeyRecovery,
  recoveryChallengeId,
  recoverySecurityKeyOptions,
  startKeyRecovery,
  verifyRecoveryCode,
} from '../../flows/recovery/key-recovery.ts';
import { type RecoveryKeySignIn, signInWithRecoveryKey } from '../../flows/recovery/sign-in-with-key.ts';
import { securityKeyProof } from '../../flows/security-key-proof.ts';
import { setSessionCookie } from '../session-cookie.ts';
import { ChallengeWithChannels, ChannelSchema, Email, errorResponses, Password, signedInJson } from './schemas.ts';
import { CredentialJson } from './security-key-api.ts';

const Token = Type.String({ maxLength: 128 });
const RecoveryKey = Type.String({
  maxLength: 64,
  description: 'XXXX-XXXX-XXXX-XX; case, spaces and dashes do not matter',
});
const NewRecoveryKey = Type.String({
  description: 'the new recovery key (the used one no longer works); shown only in this answer',
});

export function registerRecoveryApi(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/api/v1/password/forgot',
    {
      schema: {
        tags: ['recovery'],
        summary:
          'Forgot password: email the account what to do next (a single-use link, or how to use the recovery key). The answer never says whether the email has an account.',
        body: Type.Object({ email: Email }, { additionalProperties: false }),
        response: { 202: Type.Object({ status: Type.Literal('requested') }), ...errorResponses },
      },
    },
    async (request, reply) => {
      await requestPasswordReset(services, request.body.email, request.ctx);
      return reply.status(202).send({ status: 'requested' as const });
    },
  );

  app.post(
    '/api/v1/password/reset',
    {
      schema: {
        tags: ['recovery'],
        summary:
          'Choose a new password with the token of an emailed reset link (accounts without two-step verification). Signs out every session; does not sign in.',
        body: Type.Object({ token: Token, newPassword: Password }, { additionalProperties: false }),
        response: { 200: Type.Object({ status: Type.Literal('password_changed') }), ...errorResponses },
      },
    },
    async (request) => {
      await resetWithEmailLink(services, request.body, request.ctx);
      return { status: 'password_changed' as const };
    },
  );

  app.post(
    '/api/v1/recovery',
    {
      schema: {
        tags: ['recovery'],
        summary:
          'Forgot password with two-step verification, step 1: the recovery key. Returns the recovery token for the next steps and the code challenge.',
        body: Type.Object({ email: Email, recoveryKey: RecoveryKey }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            status: Type.Literal('code_required'),
            recoveryToken: Type.String(),
            challenge: ChallengeWithChannels,
          }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const started = await startKeyRecovery(services, request.body, request.ctx);
      reply.header('cache-control', 'no-store');
      const { challenge } = started;
      return {
        status: 'code_required' as const,
        recoveryToken: started.token,
        challenge: {
          id: challenge.id,
          purpose: challenge.purpose,
          expiresAt: challenge.expiresAt.toISOString(),
          channels: challenge.channels,
        },
      };
    },
  );

  app.post(
    '/api/v1/recovery/send',
    {
      schema: {
        tags: ['recovery'],
        summary: 'Step 2a: send the code to a trusted device or phone',
        body: Type.Object(
          { recoveryToken: Token, channel: Type.String({ maxLength: 80 }) },
          { additionalProperties: false },
        ),
        response: { 202: Type.Object({ status: Type.Literal('sent'), channel: ChannelSchema }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const challengeId = await recoveryChallengeId(services, request.body.recoveryToken);
      const challenge = await services.store.challenges.find(challengeId);
      if (!challenge) throw new AppError('RECOVERY_STEP_INVALID');
      const channel = await sendCodeThrough(
        services,
        challenge,
        request.body.channel,
        () => replaceChallengeCode(services, challenge),
        request.ctx,
      );
      return reply.status(202).send({ status: 'sent' as const, channel });
    },
  );

  app.post(
    '/api/v1/recovery/verify',
    {
      schema: {
        tags: ['recovery'],
        summary: 'Step 2b: the code from the trusted device or phone',
        description:
          'Send exactly one of `code` and `securityKey` (the answer of a security key to the options from POST /api/v1/recovery/security-key).',
        body: Type.Object(
          {
            recoveryToken: Token,
            code: Type.Optional(Type.String({ maxLength: 32 })),
            securityKey: Type.Optional(CredentialJson),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ status: Type.Literal('code_verified') }), ...errorResponses },
      },
    },
    async (request) => {
      const { recoveryToken, code, securityKey } = request.body;
      if ((code === undefined) === (securityKey === undefined))
        throw new AppError('VALIDATION_FAILED', { detail: { field: 'code' } });
      const answer = code ?? securityKeyProof(securityKey);
      await verifyRecoveryCode(services, { token: recoveryToken, answer }, request.ctx);
      return { status: 'code_verified' as const };
    },
  );

  app.post(
    '/api/v1/recovery/security-key',
    {
      schema: {
        tags: ['recovery'],
        summary: 'Step 2b with a security key: options for navigator.credentials.get() that answer the code step',
        body: Type.Object({ recoveryToken: Token }, { additionalProperties: false }),
        response: { 200: Type.Object({ options: Type.Object({}, { additionalProperties: true }) }), ...errorResponses },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return { options: await recoverySecurityKeyOptions(services, request.body.recoveryToken) };
    },
  );

  app.post(
    '/api/v1/recovery/password',
    {
      schema: {
        tags: ['recovery'],
        summary:
          'Step 3: the new password. Signs out every session, opens a locked account, and replaces the used recovery key.',
        body: Type.Object({ recoveryToken: Token, newPassword: Password }, { additionalProperties: false }),
        response: {
          200: Type.Object({ status: Type.Literal('password_changed'), recoveryKey: NewRecoveryKey }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { recoveryKey } = await finishKeyRecovery(
        services,
        { token: request.body.recoveryToken, newPassword: request.body.newPassword },
        request.ctx,
      );
      reply.header('cache-control', 'no-store');
      return { status: 'password_changed' as const, recoveryKey };
    },
  );

  const SignedInWithNewKey = Type.Object({
    status: Type.Literal('signed_in'),
    token: Type.String(),
    expiresAt: Type.String({ format: 'date-time' }),
    recoveryKey: NewRecoveryKey,
  });

  async function answerSignedIn(reply: FastifyReply, input: RecoveryKeySignIn, ctx: RequestContext) {
    const result = await signInWithRecoveryKey(services, input, ctx);
    reply.header('cache-control', 'no-store');
    setSessionCookie(reply, services.config, result.token);
    return { ...signedInJson(services, result.token), recoveryKey: result.recoveryKey };
  }

  app.post(
    '/api/v1/signin/recovery-key',
    {
      schema: {
        tags: ['recovery'],
        summary:
          'Lost trusted device: answer the pending sign-in challenge (the password step passed) with the recovery key instead of a code. The key is spent; a new one is returned.',
        body: Type.Object(
          { challengeId: Type.String({ maxLength: 64 }), recoveryKey: RecoveryKey },
          { additionalProperties: false },
        ),
        response: { 200: SignedInWithNewKey, ...errorResponses },
      },
    },
    async (request, reply) => answerSignedIn(reply, request.body, request.ctx),
  );

  app.post(
    '/api/v1/unlock',
    {
      schema: {
        tags: ['recovery'],
        summary:
          'Sign in with email, password and recovery key; this also opens an account locked after too many wrong codes. The key is spent; a new one is returned.',
        body: Type.Object(
          { email: Email, password: Password, recoveryKey: RecoveryKey },
          { additionalProperties: false },
        ),
        response: { 200: SignedInWithNewKey, ...errorResponses },
      },
    },
    async (request, reply) => answerSignedIn(reply, request.body, request.ctx),
  );
}
