// Relying services (SPEC §3.14): the apps that sign their users in through Twostep's OpenID Connect
// provider. The operator registers them (`twostep services add`), later an administrator in the
// console. A confidential service gets a client secret, shown once; a public one (a browser or
// native app) has none and relies on PKCE alone. Redirect URIs are matched exactly (SECURITY.md item 39).

import type { Config } from '../config.ts';
import type { Clock } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import { keyring } from '../core/secrets.ts';
import { randomToken } from '../core/tokens.ts';
import type { Store } from '../store/index.ts';
import { CLIENT_SECRET_SEAL, type RelyingService } from '../store/oidc-services.ts';
import type { RelyingServiceKind } from '../store/schema.ts';

export interface ServiceDeps {
  store: Store;
  clock: Clock;
  config: Config;
}

export interface NewService {
  name: string;
  kind: RelyingServiceKind;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** https, or http on this machine only (development); absolute, no fragment (RFC 6749 §3.1.2). */
export function checkRedirectUri(raw: string): string {
  const url = URL.parse(raw);
  if (!url || url.hash || raw.includes('#') || raw !== raw.trim()) throw new AppError('INVALID_REDIRECT_URI');
  if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname))) return raw;
  throw new AppError('INVALID_REDIRECT_URI');
}

function checkName(raw: string): string {
  const name = raw.trim();
  if (name.length < 1 || name.length > 100 || /\p{Cc}/u.test(name))
    throw new AppError('VALIDATION_FAILED', { detail: { field: 'name' } });
  return name;
}

/** Registers a service; the secret (confidential services only) is returned once and stored sealed. */
export async function registerService(
  deps: ServiceDeps,
  input: NewService,
  actor: string,
): Promise<{ service: RelyingService; clientSecret?: string }> {
  const name = checkName(input.name);
  if (input.redirectUris.length === 0) throw new AppError('INVALID_REDIRECT_URI');
  const redirectUris = [...new Set(input.redirectUris.map(checkRedirectUri))];
  const postLogoutRedirectUris = [...new Set((input.postLogoutRedirectUris ?? []).map(checkRedirectUri))];
  const clientSecret = input.kind === 'confidential' ? randomToken(32) : undefined;
  const now = deps.clock.now();
  const service: RelyingService = {
    id: randomToken(16),
    name,
    kind: input.kind,
    secretSealed: clientSecret ? keyring(deps.config).seal(CLIENT_SECRET_SEAL, clientSecret) : null,
    redirectUris,
    postLogoutRedirectUris,
    createdAt: now,
  };
  await deps.store.transaction(async (tx) => {
    await tx.relyingServices.add(service);
    await tx.audit.record({
      accountId: null,
      actor,
      event: 'service.registered',
      at: now,
      ip: null,
      userAgent: null,
      details: { service: service.id, name, kind: input.kind, redirectUris, postLogoutRedirectUris },
    });
  });
  return clientSecret ? { service, clientSecret } : { service };
}

export function listServices(deps: ServiceDeps): Promise<RelyingService[]> {
  return deps.store.relyingServices.list();
}

/** Removes a service: it can sign nobody in any more, and every token it holds dies with it. */
export async function removeService(deps: ServiceDeps, id: string, actor: string): Promise<RelyingService> {
  const now = deps.clock.now();
  return deps.store.transaction(async (tx) => {
    const service = await tx.relyingServices.find(id);
    if (!service || !(await tx.relyingServices.remove(id, now))) throw new AppError('SERVICE_NOT_FOUND');
    const revoked = await tx.oidcPayloads.revokeClient(id);
    await tx.audit.record({
      accountId: null,
      actor,
      event: 'service.removed',
      at: now,
      ip: null,
      userAgent: null,
      details: { service: id, name: service.name, tokensRevoked: revoked },
    });
    return service;
  });
}
