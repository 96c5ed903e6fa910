// The few JSON API calls the terminal device app makes, with failures turned into sentences: the
// server's own error message when it answered, the network reason when it did not.
import { arch, type as osType, release } from 'node:os';
import { DeviceAppError, EXIT } from './app-error.ts';

const TIMEOUT_MS = 15_000;
export const USER_AGENT = `Twostep-device/0.1 (${osType()} ${release()}; ${arch()})`;

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface ApiCall {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  /** A session token, sent as `Authorization: Bearer`. */
  sessionToken?: string;
  /** A device credential, sent as `Authorization: Device`. */
  deviceCredential?: string;
  json?: Record<string, unknown>;
}

/** The origin of an http(s) URL typed by the user; the API lives at its root. */
export function parseServer(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DeviceAppError(`"${raw}" is not a URL; give the server's address, e.g. https://twostep.example`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new DeviceAppError(`"${raw}" must start with https:// (or http:// on your own machine)`);
  if (url.username || url.password) throw new DeviceAppError('The server address must not contain a user or password');
  return url.origin;
}

/** A password sent over plain http to another machine can be read on the way. */
export function travelsInClear(server: string): boolean {
  const { protocol, hostname } = new URL(server);
  const loopback = hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
  return protocol === 'http:' && !loopback;
}

function networkReason(error: unknown): string {
  if ((error as Error).name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} seconds`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

export async function callApi(server: string, call: ApiCall): Promise<ApiAnswer> {
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT };
  if (call.sessionToken) headers.authorization = `Bearer ${call.sessionToken}`;
  if (call.deviceCredential) headers.authorization = `Device ${call.deviceCredential}`;
  if (call.json) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(new URL(call.path, server), {
      method: call.method,
      headers,
      body: call.json ? JSON.stringify(call.json) : undefined,
      // Never follow a redirect with a password or credential in hand: say where it points instead.
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    throw new DeviceAppError(`Cannot reach the server at ${server} (${networkReason(error)}).`, EXIT.unavailable);
  }
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get('location') ?? 'another address';
    throw new DeviceAppError(
      `The server at ${server} redirects to ${location}; use that address with --server.`,
      EXIT.unavailable,
    );
  }
  if (response.status === 204) return { status: 204, body: {} };
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new DeviceAppError(
      `The server at ${server} answered ${response.status} with something that is not the Twostep API. Is the address right?`,
      EXIT.unavailable,
    );
  return { status: response.status, body: body as Record<string, unknown> };
}

export interface ServerError {
  code: string;
  message: string;
}

/** The `{"error":{"code","message"}}` of an answer, if it has one. */
export function serverError(answer: ApiAnswer): ServerError | undefined {
  const error = answer.body.error as { code?: unknown; message?: unknown } | undefined;
  if (typeof error !== 'object' || error === null) return undefined;
  return { code: String(error.code ?? 'UNKNOWN'), message: String(error.message ?? 'The request failed.') };
}

/** Throws the server's own words for a failed answer: "The email or password is not correct. (INVALID_CREDENTIALS)". */
export function failWith(prefix: string, answer: ApiAnswer): never {
  const error = serverError(answer);
  const refused = answer.status === 401 || answer.status === 403;
  throw new DeviceAppError(
    error ? `${prefix}: ${error.message} (${error.code})` : `${prefix}: the server answered ${answer.status}.`,
    refused ? EXIT.refused : EXIT.failure,
  );
}
