// Mounts the OpenID Connect provider under /oidc (issuer `${PUBLIC_URL}/oidc`) through
// @fastify/middie, which hands oidc-provider the raw request in onRequest, before Fastify parses a
// body (oidc-provider parses its own). It runs before the portal's Origin check on purpose: services
// call the token, revocation and logout endpoints from other origins by design, and oidc-provider
// guards them itself (client authentication, PKCE, state, its logout form token).

import type { IncomingMessage, ServerResponse } from 'node:http';
import middie from '@fastify/middie';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../flows/context.ts';
import { OIDC_PATH, OidcRuntime } from './provider.ts';

export { registerOidcInteractions } from './interaction-pages.ts';
export type { OidcRuntime } from './provider.ts';

export async function mountOidc(app: FastifyInstance, services: Services): Promise<OidcRuntime> {
  const runtime = await OidcRuntime.start(services);
  await app.register(middie);
  app.use(OIDC_PATH, (req: IncomingMessage, res: ServerResponse) => runtime.handle(req, res));
  // SPEC §7 names /.well-known/openid-configuration; the document lives under the issuer (OIDC Discovery §4).
  app.get('/.well-known/openid-configuration', { schema: { hide: true } }, (_request, reply) =>
    reply.redirect(`${OIDC_PATH}/.well-known/openid-configuration`, 308),
  );
  app.decorate('oidc', runtime);
  app.addHook('onClose', async () => runtime.stop());
  return runtime;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The OpenID Connect provider in use (tests call its maintenance tick directly). */
    oidc: OidcRuntime;
  }
}
