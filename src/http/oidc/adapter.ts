// oidc-provider's storage adapter (one instance per model) over our store: its records in
// oidc_payloads, and the `Client` model answered from the registered relying services. Times are
// oidc-provider's own (the real clock): it stamps and checks its records with Date.now().
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Config } from '../../config.ts';
import { keyring } from '../../core/secrets.ts';
import type { Store } from '../../store/index.ts';
import { CLIENT_SECRET_SEAL, type RelyingService } from '../../store/oidc-services.ts';

/** The OAuth client metadata of a relying service (RFC 7591 names); undefined if its secret cannot be read. */
export function clientMetadata(config: Config, service: RelyingService): AdapterPayload | undefined {
  const base: AdapterPayload = {
    client_id: service.id,
    client_name: service.name,
    redirect_uris: service.redirectUris,
    post_logout_redirect_uris: service.postLogoutRedirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    // ID tokens always say when the user signed in (SECURITY.md item 39), not only when asked.
    require_auth_time: true,
  };
  if (service.kind === 'public') return { ...base, token_endpoint_auth_method: 'none' };
  const secret = service.secretSealed
    ? keyring(config).unsealAny(CLIENT_SECRET_SEAL, service.secretSealed)?.plaintext
    : undefined;
  if (!secret) return undefined;
  return { ...base, token_endpoint_auth_method: 'client_secret_basic', client_secret: secret };
}

function withConsumed(found: { payload: Record<string, unknown>; consumedAt: Date | null } | undefined) {
  if (!found) return undefined;
  const payload = found.payload as AdapterPayload;
  return found.consumedAt ? { ...payload, consumed: Math.floor(found.consumedAt.getTime() / 1000) } : payload;
}

class ClientAdapter implements Adapter {
  readonly #store: Store;
  readonly #config: Config;
  constructor(store: Store, config: Config) {
    this.#store = store;
    this.#config = config;
  }
  async find(id: string): Promise<AdapterPayload | undefined> {
    const service = await this.#store.relyingServices.find(id);
    return service ? clientMetadata(this.#config, service) : undefined;
  }
  // Services are registered by the operator (`twostep services`), never through the provider.
  async upsert(): Promise<void> {}
  async findByUserCode(): Promise<undefined> {
    return undefined;
  }
  async findByUid(): Promise<undefined> {
    return undefined;
  }
  async consume(): Promise<void> {}
  async destroy(): Promise<void> {}
  async revokeByGrantId(): Promise<void> {}
}

class PayloadAdapter implements Adapter {
  readonly #store: Store;
  readonly #model: string;
  constructor(store: Store, model: string) {
    this.#store = store;
    this.#model = model;
  }
  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
    await this.#store.oidcPayloads.save(this.#model, id, payload as Record<string, unknown>, expiresAt);
  }
  async find(id: string): Promise<AdapterPayload | undefined> {
    return withConsumed(await this.#store.oidcPayloads.find(this.#model, id, new Date()));
  }
  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return withConsumed(await this.#store.oidcPayloads.findByUid(this.#model, uid, new Date()));
  }
  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return withConsumed(await this.#store.oidcPayloads.findByUserCode(this.#model, userCode, new Date()));
  }
  async consume(id: string): Promise<void> {
    await this.#store.oidcPayloads.consume(this.#model, id, new Date());
  }
  async destroy(id: string): Promise<void> {
    await this.#store.oidcPayloads.destroy(this.#model, id);
  }
  async revokeByGrantId(grantId: string): Promise<void> {
    await this.#store.oidcPayloads.revokeGrant(grantId);
  }
}

/** The factory oidc-provider calls with each model name. */
export function adapterFactory(store: Store, config: Config): (model: string) => Adapter {
  return (model) => (model === 'Client' ? new ClientAdapter(store, config) : new PayloadAdapter(store, model));
}
