// The staff JSON API (SPEC §3.15, §7) under /api/v1/console: the same rules as the console pages,
// for tools. A console token comes from POST /api/v1/console/signin (email, password and a TOTP code
// in one request) and is sent as `Authorization: Bearer <token>`. There is deliberately no operation
// that sets a password, changes an email, adds or removes a factor, turns two-step verification off,
// or returns a secret (SECURITY.md item 38); on a 2SV account the reset and unlock operations answer
// 403 SUPPORT_RESET_FORBIDDEN.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../flows/context.ts';
import { applyRolloutPreset, listRollout, setCountryFlags } from '../../flows/rollout.ts';
import { AUDIT_PAGE, parseAuditFilter, searchAudit } from '../../flows/staff/audit-browser.ts';
import { listStaff } from '../../flows/staff/staff-accounts.ts';
import { membersWithSecondStep } from '../../flows/staff/staff-second-steps.ts';
import { endStaffSession, staffActor } from '../../flows/staff/staff-sessions.ts';
import { staffApiSignIn } from '../../flows/staff/staff-sign-in.ts';
import {
  accountProfile,
  revokeSessionsBySupport,
  searchAccounts,
  sendResetLinkBySupport,
  unlockBySupport,
} from '../../flows/staff/support.ts';
import type { StaffMember } from '../../store/staff.ts';
import { errorResponses } from '../api/schemas.ts';
import { registerStaffAuth, requireStaff } from './staff-auth.ts';

const security: Record<string, string[]>[] = [{ bearer: [] }];
const tags = ['console'];
const Id = Type.String({ maxLength: 64 });
const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

const StaffView = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  role: Type.Union([Type.Literal('support'), Type.Literal('admin')]),
});

const AccountSummary = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  state: Type.String(),
  twoStep: Type.Boolean(),
});

const AccountProfileView = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  state: Type.String(),
  twoStep: Type.Boolean(),
  twoStepSince: Nullable(DateTime),
  recoveryKey: Type.Boolean({ description: 'whether the account has one (never the key)' }),
  emailVerified: Type.Boolean(),
  country: Type.String(),
  locale: Type.String(),
  createdAt: DateTime,
  passwordDelaySeconds: Type.Integer(),
  devices: Type.Array(
    Type.Object({ name: Type.String(), model: Type.String(), trusted: Type.Boolean(), lastSeenAt: Nullable(DateTime) }),
  ),
  phones: Type.Array(Type.Object({ number: Type.String({ description: 'masked' }), verified: Type.Boolean() })),
  authenticatorApps: Type.Integer({ description: 'confirmed authenticator apps (never their secret)' }),
  securityKeys: Type.Array(
    Type.Object({ name: Type.String(), passkey: Type.Boolean(), createdAt: DateTime, lastUsedAt: Nullable(DateTime) }),
  ),
  sessions: Type.Array(
    Type.Object({
      createdAt: DateTime,
      lastSeenAt: DateTime,
      ip: Nullable(Type.String()),
      userAgent: Nullable(Type.String()),
    }),
  ),
  activity: Type.Array(
    Type.Object({ event: Type.String(), actor: Type.String(), at: DateTime, ip: Nullable(Type.String()) }),
  ),
});

const AuditEventView = Type.Object({
  id: Type.String(),
  at: DateTime,
  event: Type.String(),
  accountId: Nullable(Type.String()),
  actor: Type.String(),
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
});

const CountryView = Type.Object({
  country: Type.String(),
  twoStep: Type.Boolean(),
  sms: Type.Boolean(),
  wave: Nullable(Type.String()),
});

function staffView(member: StaffMember) {
  return { id: member.id, email: member.email, name: member.name, role: member.role };
}

const iso = (at: Date | null): string | null => (at ? at.toISOString() : null);

export function registerConsoleApi(parent: FastifyInstance, services: Services): void {
  parent.register(async (scope) => {
    registerStaffAuth(scope, services, { bearer: true });
    const app = scope.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      '/api/v1/console/signin',
      {
        schema: {
          tags,
          summary: 'Staff sign-in: email, password and the TOTP code of the authenticator, in one request',
          description:
            'A member whose authenticator is not set up yet gets 403 STAFF_TWO_STEP_SETUP_REQUIRED: set it up by signing in at /console first.',
          body: Type.Object(
            {
              email: Type.String({ maxLength: 320 }),
              password: Type.String({ maxLength: 4096 }),
              code: Type.String({ maxLength: 16 }),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ token: Type.String(), staff: StaffView }), ...errorResponses },
        },
      },
      async (request) => {
        const { token, member } = await staffApiSignIn(services, request.body, request.ctx);
        return { token, staff: staffView(member) };
      },
    );

    app.post(
      '/api/v1/console/signout',
      {
        schema: {
          tags,
          summary: 'Ends this console session',
          security,
          response: { 200: Type.Object({ status: Type.Literal('signed_out') }), ...errorResponses },
        },
      },
      async (request) => {
        await endStaffSession(services, requireStaff(request), request.ctx);
        return { status: 'signed_out' as const };
      },
    );

    app.get(
      '/api/v1/console/me',
      {
        schema: {
          tags,
          summary: 'The signed-in staff member',
          security,
          response: { 200: StaffView, ...errorResponses },
        },
      },
      async (request) => staffView(requireStaff(request).member),
    );

    app.get(
      '/api/v1/console/accounts',
      {
        schema: {
          tags,
          summary: 'Find accounts by id or by the start of the email address',
          security,
          querystring: Type.Object({ q: Type.String({ maxLength: 320 }) }),
          response: { 200: Type.Object({ accounts: Type.Array(AccountSummary) }), ...errorResponses },
        },
      },
      async (request) => {
        requireStaff(request);
        return { accounts: await searchAccounts(services, request.query.q) };
      },
    );

    app.get(
      '/api/v1/console/accounts/:id',
      {
        schema: {
          tags,
          summary: 'The limited profile of an account: no secret, phone numbers masked (recorded as viewed)',
          security,
          params: Type.Object({ id: Id }),
          response: { 200: AccountProfileView, ...errorResponses },
        },
      },
      async (request) => {
        const p = await accountProfile(services, requireStaff(request), request.params.id, request.ctx);
        return {
          ...p,
          twoStepSince: iso(p.twoStepSince),
          createdAt: p.createdAt.toISOString(),
          devices: p.devices.map((d) => ({ ...d, lastSeenAt: iso(d.lastSeenAt) })),
          securityKeys: p.securityKeys.map((k) => ({
            ...k,
            createdAt: k.createdAt.toISOString(),
            lastUsedAt: iso(k.lastUsedAt),
          })),
          sessions: p.sessions.map((s) => ({
            ...s,
            createdAt: s.createdAt.toISOString(),
            lastSeenAt: s.lastSeenAt.toISOString(),
          })),
          activity: p.activity.map((e) => ({ ...e, at: e.at.toISOString() })),
        };
      },
    );

    app.post(
      '/api/v1/console/accounts/:id/password-reset-link',
      {
        schema: {
          tags,
          summary: 'Email the owner the single-use password reset link (accounts without two-step verification only)',
          description:
            'On an account with two-step verification: 403 SUPPORT_RESET_FORBIDDEN. Staff never see or set a password.',
          security,
          params: Type.Object({ id: Id }),
          response: { 202: Type.Object({ status: Type.Literal('sent') }), ...errorResponses },
        },
      },
      async (request, reply) => {
        await sendResetLinkBySupport(services, requireStaff(request), request.params.id, request.ctx);
        return reply.status(202).send({ status: 'sent' as const });
      },
    );

    app.post(
      '/api/v1/console/accounts/:id/unlock',
      {
        schema: {
          tags,
          summary: 'End a timed password delay (accounts without two-step verification only)',
          description: 'On an account with two-step verification: 403 SUPPORT_RESET_FORBIDDEN.',
          security,
          params: Type.Object({ id: Id }),
          response: {
            200: Type.Object({ status: Type.Literal('unlocked'), hadDelay: Type.Boolean() }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const result = await unlockBySupport(services, requireStaff(request), request.params.id, request.ctx);
        return { status: 'unlocked' as const, ...result };
      },
    );

    app.post(
      '/api/v1/console/accounts/:id/sessions/revoke',
      {
        schema: {
          tags,
          summary: 'Sign the account out everywhere (gives nobody access; allowed on every account)',
          security,
          params: Type.Object({ id: Id }),
          response: { 200: Type.Object({ revoked: Type.Integer() }), ...errorResponses },
        },
      },
      async (request) => revokeSessionsBySupport(services, requireStaff(request), request.params.id, request.ctx),
    );

    app.get(
      '/api/v1/console/audit',
      {
        schema: {
          tags,
          summary: 'Audit events, newest first, filtered (admins)',
          security,
          querystring: Type.Object({
            account: Type.Optional(Type.String({ maxLength: 64 })),
            actor: Type.Optional(Type.String({ maxLength: 100 })),
            event: Type.Optional(
              Type.String({ maxLength: 100, description: 'an event, or an entity prefix such as `support.`' }),
            ),
            from: Type.Optional(Type.String({ maxLength: 40, description: 'YYYY-MM-DD or an ISO 8601 time' })),
            to: Type.Optional(Type.String({ maxLength: 40 })),
            before: Type.Optional(Type.String({ maxLength: 20, description: 'an event id: older events only' })),
          }),
          response: { 200: Type.Object({ events: Type.Array(AuditEventView) }), ...errorResponses },
        },
      },
      async (request) => {
        requireStaff(request, 'admin');
        const events = await searchAudit(services, parseAuditFilter(request.query, AUDIT_PAGE));
        return { events: events.map((e) => ({ ...e, at: e.at.toISOString() })) };
      },
    );

    app.get(
      '/api/v1/console/rollout',
      {
        schema: {
          tags,
          summary: 'Every country with its two-step and SMS availability (admins)',
          security,
          response: { 200: Type.Object({ countries: Type.Array(CountryView) }), ...errorResponses },
        },
      },
      async (request) => {
        requireStaff(request, 'admin');
        return { countries: await listRollout(services) };
      },
    );

    app.post(
      '/api/v1/console/rollout/:country',
      {
        schema: {
          tags,
          summary: 'Turn two-step verification and/or SMS on or off in a country (admins; as `twostep rollout`)',
          security,
          params: Type.Object({ country: Type.String({ maxLength: 8 }) }),
          body: Type.Object(
            { twoStep: Type.Optional(Type.Boolean()), sms: Type.Optional(Type.Boolean()) },
            { additionalProperties: false },
          ),
          response: { 200: CountryView, ...errorResponses },
        },
      },
      async (request) => {
        const staff = requireStaff(request, 'admin');
        return setCountryFlags(services, request.params.country, request.body, staffActor(staff.member));
      },
    );

    app.post(
      '/api/v1/console/rollout/presets/:preset',
      {
        schema: {
          tags,
          summary: 'Set every country from a preset, e.g. apple-2013 (admins)',
          security,
          params: Type.Object({ preset: Type.String({ maxLength: 40 }) }),
          response: { 200: Type.Object({ countries: Type.Array(CountryView) }), ...errorResponses },
        },
      },
      async (request) => {
        const staff = requireStaff(request, 'admin');
        return { countries: await applyRolloutPreset(services, request.params.preset, staffActor(staff.member)) };
      },
    );

    app.get(
      '/api/v1/console/staff',
      {
        schema: {
          tags,
          summary: 'Staff members and their roles (admins)',
          security,
          response: {
            200: Type.Object({
              staff: Type.Array(
                Type.Object({
                  id: Type.String(),
                  email: Type.String(),
                  name: Type.String(),
                  role: Type.String(),
                  twoStep: Type.Boolean({
                    description: 'whether a second step (authenticator app or security key) is set up',
                  }),
                  disabled: Type.Boolean(),
                  createdAt: DateTime,
                }),
              ),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        requireStaff(request, 'admin');
        const members = await listStaff(services);
        const ready = await membersWithSecondStep(services, members);
        return {
          staff: members.map((m) => ({
            ...staffView(m),
            twoStep: ready.has(m.id),
            disabled: m.disabled_at !== null,
            createdAt: m.created_at.toISOString(),
          })),
        };
      },
    );
  });
}
