// JSON API for security keys and passkeys (WebAuthn; SPEC §7 channel type `webauthn`): options for a
// registration, the authenticator's answer, list, remove; and signing in with a passkey. Adding and
// removing are protected changes on an account with two-step verification (STEP_UP_REQUIRED).
// Answering a challenge with a key is in challenge-api.ts (`securityKey` instead of `code`).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { securityKeyLimits } from '../../core/security-key-policy.ts';
import type { Services } from '../../flows/context.ts';
import { passkeySignInOptions, signInWithPasskey } from '../../flows/passkey-sign-in.ts';
import {
  finishSecurityKeyRegistration,
  listSecurityKeys,
  removeSecurityKey,
  type SecurityKeyView,
  startSecurityKeyRegistration,
} from '../../flows/security-keys.ts';
import { knownBrowserMarker, setKnownBrowserCookie } from '../known-browser-cookie.ts';
import { requireAuth } from '../request-context.ts';
import { setSessionCookie } from '../session-cookie.ts';
import { errorResponses, SignedInSchema, signedInJson } from './schemas.ts';

const security: Record<string, string[]>[] = [{ bearer: [] }, { cookie: [] }];

/**
 * A PublicKeyCredential as JSON (WebAuthn §5.1 toJSON(), what navigator.credentials returns through
 * `.toJSON()` or @simplewebauthn/browser). Bounded, so a hostile body is refused before any parsing.
 */
export const CredentialJson = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 1024 }),
    rawId: Type.String({ minLength: 1, maxLength: 1024 }),
    type: Type.Literal('public-key'),
    // Each field typed on its own: Fastify's Ajv coerces types, and would mangle a union.
    response: Type.Object(
      {
        clientDataJSON: Type.String({ maxLength: 16384 }),
        attestationObject: Type.Optional(Type.String({ maxLength: 16384 })),
        authenticatorData: Type.Optional(Type.String({ maxLength: 16384 })),
        signature: Type.Optional(Type.String({ maxLength: 1024 })),
        userHandle: Type.Optional(Type.String({ maxLength: 1024 })),
        publicKey: Type.Optional(Type.String({ maxLength: 4096 })),
        publicKeyAlgorithm: Type.Optional(Type.Integer()),
        transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10 })),
      },
      { additionalProperties: false },
    ),
    clientExtensionResults: Type.Optional(Type.Object({}, { additionalProperties: true, maxProperties: 10 })),
    authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false, description: 'the PublicKeyCredential as JSON (credential.toJSON())' },
);

const SecurityKeySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  passkey: Type.Boolean({
    description: 'discoverable and made with user verification: may sign in without the password',
  }),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const OptionsSchema = Type.Object({}, { additionalProperties: true, description: 'WebAuthn options as JSON' });

function keyJson(view: SecurityKeyView) {
  return { ...view, createdAt: view.createdAt.toISOString(), lastUsedAt: view.lastUsedAt?.toISOString() ?? null };
}

export function registerSecurityKeyApi(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/v1/security-keys',
    {
      schema: {
        tags: ['security keys'],
        summary: 'Security keys and passkeys (WebAuthn), and how many the account may have',
        security,
        response: {
          200: Type.Object({
            securityKeys: Type.Array(SecurityKeySchema),
            max: Type.Integer(),
            replaceCodesAt: Type.Union([Type.Integer(), Type.Null()], {
              description: 'from this many keys on, keys are the only second step (SECURITY_KEY_RULES=apple)',
            }),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const limits = securityKeyLimits(services.config.policy.securityKeyRules);
      return {
        securityKeys: (await listSecurityKeys(services, requireAuth(request).account.id)).map(keyJson),
        max: limits.max,
        replaceCodesAt: limits.replaceCodesAt ?? null,
      };
    },
  );

  app.post(
    '/api/v1/security-keys/options',
    {
      schema: {
        tags: ['security keys'],
        summary: 'Options for navigator.credentials.create(): valid for this session for 5 minutes, once',
        security,
        response: { 200: Type.Object({ options: OptionsSchema }), ...errorResponses },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return { options: await startSecurityKeyRegistration(services, requireAuth(request)) };
    },
  );

  app.post(
    '/api/v1/security-keys',
    {
      schema: {
        tags: ['security keys'],
        summary: "Register a security key or passkey with the authenticator's answer to the options",
        security,
        body: Type.Object(
          { name: Type.String({ maxLength: 200 }), credential: CredentialJson },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ securityKey: SecurityKeySchema }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const view = await finishSecurityKeyRegistration(
        services,
        requireAuth(request),
        { name: request.body.name, response: request.body.credential },
        request.ctx,
      );
      return reply.status(201).send({ securityKey: keyJson(view) });
    },
  );

  app.delete(
    '/api/v1/security-keys/:id',
    {
      schema: {
        tags: ['security keys'],
        summary: 'Remove a security key or passkey (a protected change; never the last second step)',
        security,
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await removeSecurityKey(services, requireAuth(request), request.params.id, request.ctx);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/signin/passkey/options',
    {
      schema: {
        tags: ['session'],
        summary: 'Options for a passkey sign-in (no allow list: the browser offers its passkeys for this site)',
        response: { 200: Type.Object({ options: OptionsSchema }), ...errorResponses },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return { options: await passkeySignInOptions(services) };
    },
  );

  app.post(
    '/api/v1/signin/passkey',
    {
      schema: {
        tags: ['session'],
        summary: 'Sign in with a passkey (user verification required): a two-step session without the password',
        body: Type.Object({ credential: CredentialJson }, { additionalProperties: false }),
        response: { 200: SignedInSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const knownBrowser = knownBrowserMarker(request, services.config);
      const result = await signInWithPasskey(
        services,
        { response: request.body.credential, knownBrowser },
        request.ctx,
      );
      reply.header('cache-control', 'no-store');
      setSessionCookie(reply, services.config, result.token);
      setKnownBrowserCookie(reply, services.config, result.knownBrowser);
      return signedInJson(services, result.token);
    },
  );
}
