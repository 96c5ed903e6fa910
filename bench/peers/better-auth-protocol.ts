// What bench/peers/better-auth.ts and its child, better-auth-server.ts, share: paths and IPC messages.
export const DEFAULT_BASE_PATH = '/api/auth';
export const CACHED_BASE_PATH = '/cookie-cache/api/auth';
export const TWO_FACTOR_COOKIE = 'better-auth.two_factor';
export const SESSION_COOKIE = 'better-auth.session_token';
export const SESSION_DATA_COOKIE = 'better-auth.session_data';

export type ToChild = { type: 'seed'; id: number; count: number; password: string } | { type: 'close' };

export type FromChild =
  | { type: 'ready'; port: number }
  | { type: 'otp'; key: string; otp: string }
  | { type: 'seeded'; id: number; emails: string[] }
  | { type: 'failed'; id: number; message: string };
