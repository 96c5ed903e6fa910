// JSON API for the signed-in account (SPEC §7): who am I, change the profile, the email address and
// the password, sessions, activity.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../core/errors.ts';
import { changePassword, updateProfile } from '../../flows/account-changes.ts';
import { recentActivity } from '../../flows/activity.ts';
import type { Services } from '../../flows/context.ts';
import { confirmEmailChange, requestEmailChange } from '../../flows/email-change.ts';
import { type AuthenticatedSession, listSessions, revokeSession, trustedFactorsOf } from '../../flows/sessions.ts';
import type { Account } from '../../store/accounts.ts';
import { requireAuth } from '../request-context.ts';
import { clearSessionCookie } from '../session-cookie.ts';
import {
  BirthDate,
  Country,
  Email,
  EventView,
  errorResponses,
  MeView,
  Name,
  Password,
  SessionView,
} from './schemas.ts';

const security: Record<string, string[]>[] = [{ bearer: [] }, { cookie: [] }];

function accountView(account: Account) {
  return {
    id: account.id,
    email: account.email,
    emailVerified: account.email_verified_at !== null,
    name: account.name,
    birthDate: account.birth_date,
    country: account.country,
    locale: account.locale,
    state: account.state,
    createdAt: account.created_at.toISOString(),
  };
}

async function meView(services: Services, auth: AuthenticatedSession) {
  const { devices, phones } = await trustedFactorsOf(services, auth);
  return {
    account: accountView(auth.account),
    twoStep: {
      enabled: auth.account.two_step_enabled_at !== null,
      devices: devices.map((d) => ({ id: d.id, name: d.name })),
      phones: phones.map((p) => ({ id: p.id, number: `•••• ${p.e164.slice(-2)}` })),
    },
    session: { id: auth.session.id, assurance: auth.session.assurance, expiresAt: auth.expiresAt.toISOString() },
  };
}

export function registerMeApi(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/v1/me',
    {
      schema: {
        tags: ['account'],
        summary: 'The signed-in account',
        security,
        response: { 200: MeView, ...errorResponses },
      },
    },
    async (request) => meView(services, requireAuth(request)),
  );

  app.patch(
    '/api/v1/me',
    {
      schema: {
        tags: ['account'],
        summary: 'Change the name, date of birth or country (any of them, checked like sign-up)',
        description:
          'On an account with two-step verification this needs a two-step verification in the last 10 minutes ' +
          '(`STEP_UP_REQUIRED`: see POST /api/v1/step-up). A new date of birth or country is emailed to the owner. ' +
          'The country decides whether two-step verification and SMS are available (the rollout).',
        security,
        body: Type.Object(
          { name: Type.Optional(Name), birthDate: Type.Optional(BirthDate), country: Type.Optional(Country) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: MeView, ...errorResponses },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      const account = await updateProfile(services, auth, request.body, request.ctx);
      return meView(services, { ...auth, account });
    },
  );

  app.post(
    '/api/v1/me/email',
    {
      schema: {
        tags: ['account'],
        summary: 'Ask to change the email address (needs the current password); a link is emailed to the new one',
        description:
          'The change takes effect only when the link sent to the new address is followed ' +
          '(POST /api/v1/me/email/confirm); the current address is told. The answer is the same whether or not ' +
          'the new address already belongs to another account (then nothing changes and that owner is told). ' +
          'Needs a recent two-step verification on an account with two-step verification.',
        security,
        body: Type.Object({ newEmail: Email, currentPassword: Password }, { additionalProperties: false }),
        response: { 202: Type.Object({ status: Type.Literal('check_email') }), ...errorResponses },
      },
    },
    async (request, reply) => {
      await requestEmailChange(services, requireAuth(request), request.body, request.ctx);
      return reply.status(202).send({ status: 'check_email' as const });
    },
  );

  app.post(
    '/api/v1/me/email/confirm',
    {
      schema: {
        tags: ['account'],
        summary: 'Confirm an email change with the token from the link sent to the new address',
        description: 'No session is needed: the single-use token is the proof that the new mailbox is reachable.',
        body: Type.Object({ token: Type.String({ maxLength: 128 }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ status: Type.Literal('changed'), email: Type.String() }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { email } = await confirmEmailChange(services, request.body.token, request.ctx);
      return { status: 'changed' as const, email };
    },
  );

  app.post(
    '/api/v1/password',
    {
      schema: {
        tags: ['account'],
        summary: 'Change the password (needs the current one); signs out every other session',
        security,
        body: Type.Object({ currentPassword: Password, newPassword: Password }, { additionalProperties: false }),
        response: { 200: Type.Object({ status: Type.Literal('changed') }), ...errorResponses },
      },
    },
    async (request) => {
      await changePassword(services, requireAuth(request), request.body, request.ctx);
      return { status: 'changed' as const };
    },
  );

  app.get(
    '/api/v1/sessions',
    {
      schema: {
        tags: ['session'],
        summary: 'Where the account is signed in',
        security,
        response: { 200: Type.Object({ sessions: Type.Array(SessionView) }), ...errorResponses },
      },
    },
    async (request) => {
      const sessions = await listSessions(services, requireAuth(request));
      return {
        sessions: sessions.map((s) => ({
          ...s,
          createdAt: s.createdAt.toISOString(),
          lastSeenAt: s.lastSeenAt.toISOString(),
        })),
      };
    },
  );

  app.delete(
    '/api/v1/sessions/:id',
    {
      schema: {
        tags: ['session'],
        summary: 'Sign out one session (this one or another)',
        security,
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      if (!(await revokeSession(services, auth, request.params.id, request.ctx))) throw new AppError('NOT_FOUND');
      if (request.params.id === auth.session.id) clearSessionCookie(reply, services.config);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/v1/activity',
    {
      schema: {
        tags: ['account'],
        summary: 'Recent activity (audit events of the account), newest first',
        security,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
          before: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$' })),
        }),
        response: { 200: Type.Object({ events: Type.Array(EventView) }), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, before } = request.query;
      const events = await recentActivity(services, requireAuth(request), {
        limit: limit ?? 50,
        ...(before ? { beforeId: before } : {}),
      });
      return {
        events: events.map((e) => ({
          id: e.id,
          event: e.event,
          actor: e.actor,
          staff: e.by.kind === 'staff' ? { name: e.by.name } : null,
          at: e.at.toISOString(),
          ip: e.ip,
          userAgent: e.userAgent,
        })),
      };
    },
  );
}
