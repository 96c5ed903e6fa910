// Every failure a client can see has a stable code, an HTTP status and a message id in text/.
// Details for operators go to the logs, never into the answer.

export const errorCatalog = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  INVALID_EMAIL: 400,
  INVALID_NAME: 400,
  INVALID_BIRTH_DATE: 400,
  INVALID_COUNTRY: 400,
  EMAIL_UNCHANGED: 400,
  PASSWORD_TOO_SHORT: 400,
  PASSWORD_TOO_LONG: 400,
  PASSWORD_COMMON: 400,
  PASSWORD_CONTAINS_PERSONAL_INFO: 400,
  PASSWORD_REUSED: 400,
  INVALID_TOKEN: 400,
  INVALID_PUBLIC_KEY: 400,
  INVALID_PHONE_NUMBER: 400,
  INVALID_LABEL: 400,
  PHONE_NUMBER_NOT_ALLOWED: 400,
  SMS_NUMBER_REJECTED: 400,
  CODE_WRONG: 400,
  SECURITY_KEY_REJECTED: 400,
  CODE_EXPIRED: 400,
  CHALLENGE_CLOSED: 410,
  NOT_APPROVED: 409,
  DEVICE_AUTH_FAILED: 401,
  DEVICE_NOT_TRUSTED: 409,
  INVALID_CREDENTIALS: 401,
  CURRENT_PASSWORD_WRONG: 403,
  UNAUTHENTICATED: 401,
  EMAIL_NOT_VERIFIED: 403,
  ACCOUNT_LOCKED: 403,
  ACCOUNT_DISABLED: 403,
  CSRF_REJECTED: 403,
  STEP_UP_REQUIRED: 403,
  SECURITY_KEY_REQUIRED: 403,
  SIM_SWAP_SUSPECTED: 403,
  TWO_STEP_NOT_AVAILABLE: 403,
  TWO_STEP_WAITING_PERIOD: 403,
  TWO_STEP_NOT_READY: 409,
  TWO_STEP_ALREADY_ON: 409,
  EMAIL_TAKEN: 409,
  TWO_STEP_OFF: 409,
  TWO_STEP_LAST_FACTOR: 409,
  APP_PASSWORDS_NEED_TWO_STEP: 409,
  APP_PASSWORD_LIMIT: 409,
  SECURITY_KEY_LIMIT: 409,
  SECURITY_KEY_ALREADY_REGISTERED: 409,
  RECOVERY_KEY_MISTYPED: 400,
  RECOVERY_KEY_WRONG: 400,
  RECOVERY_STEP_INVALID: 409,
  RESET_NEEDS_TWO_STEP: 403,
  ACKNOWLEDGEMENT_REQUIRED: 400,
  SUPPORT_RESET_FORBIDDEN: 403,
  STAFF_ROLE_REQUIRED: 403,
  STAFF_TWO_STEP_SETUP_REQUIRED: 403,
  STAFF_LAST_ADMIN: 409,
  STAFF_LAST_SECOND_STEP: 409,
  STAFF_RECENT_SIGN_IN_REQUIRED: 403,
  INVALID_REDIRECT_URI: 400,
  SERVICE_NOT_FOUND: 404,
  SERVICE_SIGNIN_EXPIRED: 410,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_ATTEMPTS: 429,
  PUSH_LIMIT_REACHED: 429,
  SMS_LIMIT_REACHED: 429,
  ACCOUNT_LOCKED_FOR_NOW: 429,
  RECOVERY_PAUSED: 429,
  SERVICE_UNAVAILABLE: 503,
  EMAIL_DELIVERY_FAILED: 503,
  SMS_DELIVERY_FAILED: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof errorCatalog;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Seconds the client should wait (429 answers). */
  readonly retryAfterSeconds: number | undefined;
  /** Extra public detail, e.g. which field failed. Never a secret. */
  readonly detail: Record<string, string | number> | undefined;

  constructor(
    code: ErrorCode,
    options: { retryAfterSeconds?: number; detail?: Record<string, string | number>; cause?: unknown } = {},
  ) {
    // The cause (e.g. the Redis error behind SERVICE_UNAVAILABLE) is for the log, never the answer.
    super(code, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = errorCatalog[code];
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.detail = options.detail;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
