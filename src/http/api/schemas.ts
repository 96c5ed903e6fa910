// TypeBox schemas shared by the JSON API: they validate requests, allow-list responses (nothing
// outside a schema is ever serialized) and generate the OpenAPI document at /docs.
import { Type } from 'typebox';
import type { Services } from '../../flows/context.ts';
import type { TwoStepRequired } from '../../flows/sign-in.ts';

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'stable, SCREAMING_SNAKE; see docs/errors.md' }),
      message: Type.String({ description: 'for people, in the request language' }),
      detail: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]))),
    }),
  },
  { $id: 'ErrorBody' },
);

/** The error answers every endpoint may give. */
export const errorResponses = {
  '4xx': Type.Ref('ErrorBody'),
  '5xx': Type.Ref('ErrorBody'),
};

export const AccountView = Type.Object({
  id: Type.String(),
  email: Type.String(),
  emailVerified: Type.Boolean(),
  name: Type.String(),
  birthDate: Type.String({ format: 'date' }),
  country: Type.String(),
  locale: Type.String(),
  state: Type.Union([Type.Literal('active'), Type.Literal('locked'), Type.Literal('disabled')]),
  createdAt: Type.String({ format: 'date-time' }),
});

export const MeView = Type.Object({
  account: AccountView,
  twoStep: Type.Object({
    enabled: Type.Boolean(),
    devices: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
    phones: Type.Array(Type.Object({ id: Type.String(), number: Type.String() })),
  }),
  session: Type.Object({
    id: Type.String(),
    assurance: Type.String(),
    expiresAt: Type.String({ format: 'date-time' }),
  }),
});

export const SessionView = Type.Object({
  id: Type.String(),
  current: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  assurance: Type.String(),
});

export const EventView = Type.Object({
  id: Type.String(),
  event: Type.String({ description: '<entity>.<verb>; see docs/events.md' }),
  actor: Type.String({
    description: "Opaque: 'account:<id>', 'device:<id>', 'staff:<id>', 'system' or 'operator:cli'",
  }),
  staff: Type.Union([Type.Object({ name: Type.String() }), Type.Null()], {
    description:
      'For an action of Twostep support: the name of the staff member who acted (their email is never shown); null otherwise',
  }),
  at: Type.String({ format: 'date-time' }),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
});

// Lengths are generous upper bounds that keep hostile input cheap; the real rules (and their error
// codes) are in core/, so a too-long password says PASSWORD_TOO_LONG rather than a generic failure.
export const Email = Type.String({ maxLength: 320 });
export const Password = Type.String({ maxLength: 4096 });
export const Name = Type.String({ maxLength: 1000 });
export const BirthDate = Type.String({ maxLength: 32, description: 'YYYY-MM-DD' });
export const Country = Type.String({ maxLength: 8, description: 'ISO 3166-1 alpha-2 code' });

export const ChannelSchema = Type.Object({
  id: Type.String({ description: 'pass as `channel` to POST /api/v1/challenges/{id}/send' }),
  type: Type.Union([Type.Literal('device'), Type.Literal('sms'), Type.Literal('totp'), Type.Literal('webauthn')]),
  label: Type.String(),
});

export const ChallengeWithChannels = Type.Object({
  id: Type.String(),
  purpose: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
  channels: Type.Array(ChannelSchema),
});

export const SignedInSchema = Type.Object({
  status: Type.Literal('signed_in'),
  token: Type.String({ description: 'session token; send as `Authorization: Bearer`' }),
  expiresAt: Type.String({ format: 'date-time' }),
});

export const TwoStepRequiredSchema = Type.Object({
  status: Type.Literal('two_step_required'),
  challenge: ChallengeWithChannels,
});

export function signedInJson(services: Services, token: string) {
  const expiresAt = new Date(services.clock.now().getTime() + services.config.policy.sessionIdleMinutes * 60_000);
  return { status: 'signed_in' as const, token, expiresAt: expiresAt.toISOString() };
}

export function twoStepRequiredJson(result: TwoStepRequired) {
  const { challenge } = result;
  return {
    status: 'two_step_required' as const,
    challenge: {
      id: challenge.id,
      purpose: challenge.purpose,
      expiresAt: challenge.expiresAt.toISOString(),
      channels: challenge.channels,
    },
  };
}
