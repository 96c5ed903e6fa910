// Cross-site request forgery defence (SECURITY.md item 32), in two layers:
// 1. every state-changing request from a browser must come from our own origin (Fetch Metadata and Origin);
// 2. every HTML form carries a synchronizer token: an HMAC of a random per-browser cookie, so a
//    cookie planted from elsewhere is useless without our secret.
// Requests authenticated by a bearer token carry no ambient credentials and need neither.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { AppError } from '../core/errors.ts';
import { keyring } from '../core/secrets.ts';
import { randomToken } from '../core/tokens.ts';
import { cookieNames, cookieOptions } from './cookies.ts';
import { bearerToken } from './request-context.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What a form token is for: each has its own label, so a portal token can never pass in the console. */
export type FormTokenLabel = 'csrf' | 'console-csrf';

function formToken(secret: string, label: FormTokenLabel, cookieValue: string): string {
  return createHmac('sha256', secret).update(`${label}:${cookieValue}`).digest('base64url');
}

/** The token a form rendered now carries: keyed with the current TWOSTEP_SECRET. */
export function signFormToken(config: Config, label: FormTokenLabel, cookieValue: string): string {
  return formToken(keyring(config).current, label, cookieValue);
}

/**
 * Whether `submitted` is the token of this cookie under the current or a previous TWOSTEP_SECRET: a
 * form rendered before a rotation still posts while the old value is in TWOSTEP_SECRET_PREVIOUS.
 */
export function formTokenMatches(
  config: Config,
  label: FormTokenLabel,
  cookieValue: string,
  submitted: string,
): boolean {
  const given = Buffer.from(submitted);
  return keyring(config).verifyAny((secret) => {
    const expected = Buffer.from(formToken(secret, label, cookieValue));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

/** The token to put in a form; sets the per-browser cookie on first use. */
export function csrfTokenFor(request: FastifyRequest, reply: FastifyReply): string {
  const config = request.server.services.config;
  const name = cookieNames(config).csrf;
  let value = request.cookies[name];
  if (!value || !/^[A-Za-z0-9_-]{43}$/.test(value)) {
    value = randomToken(32);
    reply.setCookie(name, value, cookieOptions(config));
    request.cookies[name] = value;
  }
  return signFormToken(config, 'csrf', value);
}

export function assertFormToken(request: FastifyRequest, submitted: unknown): void {
  const config = request.server.services.config;
  const cookie = request.cookies[cookieNames(config).csrf];
  if (!cookie || typeof submitted !== 'string') throw new AppError('CSRF_REJECTED');
  if (!formTokenMatches(config, 'csrf', cookie, submitted)) throw new AppError('CSRF_REJECTED');
}

function sameOrigin(request: FastifyRequest, ownOrigin: string): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== ownOrigin) return false;
  return true;
}

export function registerOriginCheck(app: FastifyInstance, config: Config): void {
  // Parsed once, not on every state-changing request.
  const ownOrigin = new URL(config.publicUrl).origin;
  app.addHook('onRequest', async (request) => {
    if (SAFE_METHODS.has(request.method)) return;
    // Exactly the requests whose session comes from a well-formed bearer token (request-context.ts)
    // skip the check; `Bearer` followed by garbage is checked like any cookie request.
    if (bearerToken(request) !== undefined) return;
    if (!sameOrigin(request, ownOrigin)) throw new AppError('CSRF_REJECTED');
  });
}
