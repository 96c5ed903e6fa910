// A software security key (helpers/webauthn.ts) registered on a customer account through the JSON API,
// the way the portal's page does it: options for the signed-in session, then the key's answer under a
// name. The session needs a recent two-step verification, as for every protected change.
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from './app.ts';
import { bearer } from './journeys.ts';
import { type SoftKey, type SoftKeyOptions, softKey } from './webauthn.ts';

type Api = Pick<TestApp, 'request' | 'config'>;

async function register(
  t: Api,
  token: string,
  key: SoftKey,
  name: string,
): Promise<{ answer: LightMyRequestResponse; registration: Record<string, unknown> }> {
  const options = await t.request({ method: 'POST', url: '/api/v1/security-keys/options', headers: bearer(token) });
  assert.equal(options.statusCode, 200, options.body);
  const registration = key.register(options.json().options);
  const answer = await t.request({
    method: 'POST',
    url: '/api/v1/security-keys',
    headers: bearer(token),
    payload: { name, credential: registration },
  });
  return { answer, registration };
}

/** Asks for registration options and posts `key`'s answer; the API's answer as it is (201 or a refusal). */
export async function postSoftKey(
  t: Api,
  token: string,
  key: SoftKey,
  name = 'Blue key',
): Promise<LightMyRequestResponse> {
  return (await register(t, token, key, name)).answer;
}

export interface RegisteredSoftKey {
  key: SoftKey;
  /** The stored key's id, as the API lists it. */
  id: string;
  /** What the key answered (RegistrationResponseJSON), e.g. to look for its parts in logs. */
  registration: { response: Record<string, string> };
}

/**
 * A new software key (for the app's public origin unless `key` says otherwise) registered on the
 * session's account under `name` (default "Blue key"); fails the test unless the API answers 201.
 */
export async function registerSoftKey(
  t: Api,
  token: string,
  options: { name?: string; key?: Partial<SoftKeyOptions> } = {},
): Promise<RegisteredSoftKey> {
  const key = softKey({ origin: new URL(t.config.publicUrl).origin, ...options.key });
  const { answer, registration } = await register(t, token, key, options.name ?? 'Blue key');
  assert.equal(answer.statusCode, 201, answer.body);
  return {
    key,
    id: answer.json().securityKey.id,
    registration: registration as RegisteredSoftKey['registration'],
  };
}
